"""questlab: a self-hostable platform for gamified, hands-on programming quests."""

__version__ = "0.1.0"
