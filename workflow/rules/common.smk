# Shared state: the validated profile and the registries it expands over.
import os

from clusterbench.registry import ConfigError, load_profile, validate_names

PROFILE_NAME = config["profile"]
try:
    PROFILE = load_profile(PROFILE_NAME)
    DATASETS = list(config.get("datasets") or PROFILE["datasets"])
    METHODS = list(config.get("methods") or PROFILE["methods"])
    validate_names(METHODS, DATASETS)
except ConfigError as error:
    raise WorkflowError(f"configuration error: {error}")
SEEDS = list(range(config["seeds"])) if config.get("seeds") else PROFILE["seeds"]
MIRROR = config.get("mirror") or os.environ.get("CLUSTERBENCH_MIRROR", "")
STRICT = "--strict" if config.get("strict") else ""
DEVICE = config.get("device", "cpu")


wildcard_constraints:
    dataset="[a-z0-9_]+",
    method="[a-z0-9_]+",
    profile="[a-z]+",
