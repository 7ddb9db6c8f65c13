"""The provider console's registrations: applying, their states, deadlines and steps."""
