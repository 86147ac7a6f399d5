"""Configuration: load monitor.yaml into a validated, frozen `Config`, or explain what is wrong."""

from monitor.config.checks import ConfigChecks
from monitor.config.errors import ConfigError
from monitor.config.load import LoadedConfig, load_config
from monitor.config.schema import Config
from monitor.config.summary import summarize

__all__ = ["Config", "ConfigChecks", "ConfigError", "LoadedConfig", "load_config", "summarize"]
