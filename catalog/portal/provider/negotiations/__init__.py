"""The provider console's contract negotiations: those asked of the entity, each with the steps its members may take
and its agreement."""
