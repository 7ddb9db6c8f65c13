"""The registry's closed vocabularies; anything else is refused with the field named."""

from __future__ import annotations

from enum import StrEnum


class EntityKind(StrEnum):
    """What a registrant entity is in the programme."""

    data_source = "data_source"
    operator = "operator"
    merchant = "merchant"
    other = "other"


class EntityStatus(StrEnum):
    """Whether the registry has checked the entity."""

    pending = "pending"
    verified = "verified"
    suspended = "suspended"


class Openness(StrEnum):
    """Open attribute (开放属性) and sharing attribute (共享属性) share these values."""

    unconditional = "unconditional"
    conditional = "conditional"
    not_open = "not_open"


class SecurityLevel(StrEnum):
    """GB/T 43697-2024 data security level; core data can't get property rights."""

    general = "general"
    important = "important"
    core = "core"


class UpdateCycle(StrEnum):
    """How often a resource is refreshed."""

    realtime = "realtime"
    daily = "daily"
    weekly = "weekly"
    monthly = "monthly"
    quarterly = "quarterly"
    yearly = "yearly"
    irregular = "irregular"
    static = "static"


class ProductForm(StrEnum):
    """Forms of data products and services."""

    dataset = "dataset"
    api = "api"
    report = "report"
    visualisation = "visualisation"
    index_ = "index"  # the name `index` would shadow str.index
    model = "model"
    encrypted = "encrypted"


class Theme(StrEnum):
    """Industry clusters of Guangzhou's "12218" and Tianhe's "12126" systems (see shared/seeds)."""

    software_internet = "software_internet"  # 软件与互联网
    artificial_intelligence = "artificial_intelligence"  # 人工智能
    intelligent_vehicles = "intelligent_vehicles"  # 智能网联与新能源汽车
    biomedicine_health = "biomedicine_health"  # 生物医药与健康
    fashion_consumer = "fashion_consumer"  # 时尚消费品
    low_altitude_aerospace = "low_altitude_aerospace"  # 低空经济与航空航天
    equipment_robotics = "equipment_robotics"  # 智能装备与机器人
    intelligent_construction = "intelligent_construction"  # 智能建造与工业化建筑
    future_networks_quantum = "future_networks_quantum"  # 未来网络与量子科技
    advanced_materials = "advanced_materials"  # 前沿新材料
    embodied_intelligence = "embodied_intelligence"  # 具身智能
    unmanned_systems = "unmanned_systems"  # 智能无人系统
    modern_finance = "modern_finance"  # 现代金融
    modern_commerce = "modern_commerce"  # 现代商贸
    professional_services = "professional_services"  # 专业服务
    cultural_creative = "cultural_creative"  # 文化创意
    public_services = "public_services"  # 公共服务 (governance and welfare data)


THEME_LABELS_ZH: dict[Theme, str] = {
    Theme.software_internet: "软件与互联网",
    Theme.artificial_intelligence: "人工智能",
    Theme.intelligent_vehicles: "智能网联与新能源汽车",
    Theme.biomedicine_health: "生物医药与健康",
    Theme.fashion_consumer: "时尚消费品",
    Theme.low_altitude_aerospace: "低空经济与航空航天",
    Theme.equipment_robotics: "智能装备与机器人",
    Theme.intelligent_construction: "智能建造与工业化建筑",
    Theme.future_networks_quantum: "未来网络与量子科技",
    Theme.advanced_materials: "前沿新材料",
    Theme.embodied_intelligence: "具身智能",
    Theme.unmanned_systems: "智能无人系统",
    Theme.modern_finance: "现代金融",
    Theme.modern_commerce: "现代商贸",
    Theme.professional_services: "专业服务",
    Theme.cultural_creative: "文化创意",
    Theme.public_services: "公共服务",
}


class SubjectStatus(StrEnum):
    """Life of a registered subject (resource or product)."""

    draft = "draft"
    registered = "registered"
    cancelled = "cancelled"


class SubjectType(StrEnum):
    """What a registration is about."""

    resource = "resource"
    product = "product"


class RegistrationType(StrEnum):
    """首次 first, 变更 change, 更正 correction, 注销 cancellation."""

    first = "first"
    change = "change"
    correction = "correction"
    cancellation = "cancellation"


class RegistrationState(StrEnum):
    """Steps of the registration procedure."""

    draft = "draft"
    submitted = "submitted"
    returned = "returned"  # returned for supplement (一次性告知)
    not_accepted = "not_accepted"
    accepted = "accepted"  # under formal review
    refused = "refused"  # formal review refused, or an objection upheld
    notice = "notice"  # public notice running
    objection = "objection"  # an objection is being handled
    registered = "registered"
    withdrawn = "withdrawn"


FINAL_STATES = frozenset(
    {
        RegistrationState.not_accepted,
        RegistrationState.refused,
        RegistrationState.registered,
        RegistrationState.withdrawn,
    }
)


class ObjectionState(StrEnum):
    """An objection is open until the registry upholds or dismisses it."""

    open = "open"
    upheld = "upheld"
    dismissed = "dismissed"
