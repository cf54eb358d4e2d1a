"""Public and brand-facing URLs. Names follow <entity>-<action>."""

urlpatterns: list = []
