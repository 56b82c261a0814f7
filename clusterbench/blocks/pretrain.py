"""Shared autoencoder pretraining, keyed by (profile, dataset, recipe, seed) and reused.

DEC, IDEC and AE+k-means start from the same pretrained network, as do DynAE
and R-DC ("identical pretraining phases", R-DC Sec. 4.3). A recipe is a file
``config/pretrain/{name}.yaml``::

    recipe: ae_mse          # the training procedure: ae_mse | ae_denoising | acai
    description: ...
    params: {}              # overrides of the procedure's Config defaults
    datasets: {usps: {}}    # per-dataset values from the papers / authors' code
    profiles: {smoke: {}, quick: {}, paper: {}}   # per-profile budgets

resolved like a method's (Config() ← params ← datasets[d] ← profiles[p]).
Several files may share a procedure: ``acai_frozen`` is ``acai`` with DynAE's
never-trained critic.

Procedures (reference/autoencoder-family.md §1, §4; R-DC Sec. 3.1, Eq. 1-2):

- ``ae_mse``: end-to-end reconstruction, Keras 'mse' (element mean), shuffled
  mini-batches, a fixed number of epochs (XifengGuo/DEC-keras ``pretrain``).
- ``ae_denoising``: DEC's Caffe recipe. Each layer pair is a denoising
  autoencoder trained on the previous (clean) codes: Dropout(0.2) corrupts the
  input of layers > 0, ReLU + Dropout(0.2) on the hidden code except the
  embedding; then end-to-end fine-tuning without dropout. SGD(0.1, momentum
  0.9), lr × 0.1 every 20,000 iterations, Gaussian(0.01) init. The loss is
  Caffe's EuclideanLoss (½ Σ over features, mean over the batch), the
  reduction the learning rate 0.1 was tuned for.
- ``acai``: adversarially constrained interpolation (Berthelot et al. 2019) as
  DynAE trains it (nairouz/DynAE ``train_aci_ae``):
  x̂_α = g(α f(x) + (1 − α) f(x_rev)), α_i ~ U(0, alpha_max), x_rev the batch reversed;
  Eq. (1) L_ae = mean((x − g(f(x)))²) + λ mean(c(x̂_α)²);
  Eq. (2) L_critic = mean((c(x̂_α) − α)²) + mean(c(η x + (1 − η) g(f(x)))²), u ~ U(0, 1) once per step and
  η = ½ − |u − ½| (``eta: folded``, DynAE's code) or η = u (``eta: uniform``, R-DC Sec. 3.1);
  the autoencoder step comes first, the critic step then uses the interpolants
  computed before it. Adam for both; images are randomly shifted (0.1) and
  rotated (10°) before every step. ``critic_trained: false`` reproduces the
  authors' code, whose critic is frozen before compilation and never learns.

Weights live at ``{root}/{profile}/{dataset}/{recipe}/seed{S}.pt`` (root:
``$CLUSTERBENCH_PRETRAINED``, else ``resources/pretrained`` in the working
directory, as the Snakemake DAG writes it), written atomically with the
resolved recipe config and its hash inside and in ``seed{S}.json`` beside; a
file whose hash differs is stale and is retrained.
:func:`pretrained_autoencoder` loads a valid file or trains and saves one, so a
method works standalone and the DAG's ``pretrain`` rule shares the work.

Deviations from the authors' code, all named: mini-batches are drawn from a
seeded shuffle every epoch (DynAE walks the data in file order and only
shuffles inside a batch; on class-sorted files that would give one-class
batches); the augmentation fills borders with zeros (Keras: nearest pixel) and
is applied only to image datasets; seeds are fixed (the authors set none).

This module imports torch lazily: resolving a recipe stays light.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from ..framework.base import ClusteringMethod, DivergenceError, numerical_failure
from ..framework.registry import ConfigError, resolve_layers
from ..framework.schema import load_yaml

#: bump when the training code changes what a recipe produces (invalidates stored weights);
#: 2: fused Adam (clusterbench.blocks.training.adam), whose rounding differs from version 1's
FORMAT_VERSION = 2
#: counts trainings in this process (tests use it to prove reuse)
TRAIN_COUNT = 0


# ----------------------------------------------------------------- configs

@dataclass
class AEMSEConfig:
    """End-to-end MSE pretraining (DEC-keras). Defaults: DEC-keras's branch for datasets it does not name."""

    hidden: list = field(default_factory=lambda: [500, 500, 2000])  # hidden widths of f (g mirrors them)
    embedding_dim: int = 10
    init: str = "glorot"              # variance_scaling | glorot | gaussian
    input_scale: float = 1.0          # x ← input_scale · x (the datasets are in [0, 1])
    epochs: int = 200
    max_steps: int = 0                # cap on mini-batch steps (0: none); small profiles only
    batch_size: int = 256
    optimizer: str = "adam"           # adam | sgd
    lr: float = 1e-3
    momentum: float = 0.9             # SGD only
    log_every: int = 100              # steps between history rows


@dataclass
class DenoisingConfig:
    """Layer-wise denoising pretraining + end-to-end fine-tuning (DEC's Caffe code)."""

    hidden: list = field(default_factory=lambda: [500, 500, 2000])
    embedding_dim: int = 10
    init: str = "gaussian"
    input_scale: float = 1.0
    layer_iterations: int = 50000     # per layer pair
    finetune_iterations: int = 100000
    dropout: float = 0.2
    batch_size: int = 256
    lr: float = 0.1
    momentum: float = 0.9
    lr_step: int = 20000              # lr × lr_gamma every lr_step iterations (each stage restarts)
    lr_gamma: float = 0.1
    log_every: int = 1000


@dataclass
class ACAIConfig:
    """ACAI pretraining as DynAE runs it (DynAE/dynAE.ipynb settings)."""

    hidden: list = field(default_factory=lambda: [500, 500, 2000])
    embedding_dim: int = 10
    init: str = "variance_scaling"
    input_scale: float = 1.0
    iterations: int = 130000
    batch_size: int = 256
    lr: float = 1e-4                  # Adam, autoencoder and critic
    adv_weight: float = 0.5           # λ of Eq. (1)
    alpha_max: float = 1.0            # α ~ U(0, alpha_max); ACAI as published: 0.5
    eta: str = "folded"               # η of Eq. (2), once per step: folded ½ − |u − ½| (DynAE's code) | uniform U(0, 1) (R-DC)
    critic_trained: bool = True       # False: DynAE's code (critic frozen at its initial weights)
    augment: bool = True              # shift/rotate image data before each step
    shift: float = 0.1
    degrees: float = 10.0
    log_every: int = 1000


KINDS = {"ae_mse": AEMSEConfig, "ae_denoising": DenoisingConfig, "acai": ACAIConfig}


@dataclass(frozen=True)
class RecipeEntry:
    name: str
    kind: str
    description: str
    params: dict
    datasets: dict
    profiles: dict
    path: Path


@lru_cache(maxsize=32)
def _read_recipe(path: str) -> RecipeEntry:
    """One recipe file, checked against workflow/schemas/recipe.schema.yaml and its kind's Config."""
    from ..data import DATASETS
    from ..framework.registry import check_entry

    p = Path(path)
    raw = load_yaml(p, "recipe")
    unknown = [d for d in (raw.get("datasets") or {}) if d not in DATASETS]
    if unknown:
        raise ConfigError(f"{p}: datasets: unknown dataset(s) {unknown}")
    entry = RecipeEntry(p.stem, raw["recipe"], raw.get("description", ""), raw.get("params") or {},
                        raw.get("datasets") or {}, raw.get("profiles") or {}, p)
    check_entry(entry, KINDS[entry.kind])
    return entry


def recipes() -> dict[str, RecipeEntry]:
    """Every recipe of ``config/pretrain/`` (packaged, then the user folder's)."""
    from ..framework.resources import as_path, config_files

    return {name: _read_recipe(str(as_path(node).resolve())) for name, node in config_files("pretrain").items()}


def get_recipe(name: str) -> RecipeEntry:
    known = recipes()
    if name not in known:
        raise ConfigError(f"unknown pretraining recipe {name!r}; known: {', '.join(known) or 'none'}")
    return known[name]


def resolve_recipe(name: str, dataset: str, profile: str, extra: dict | None = None):
    """The resolved Config of recipe ``name`` for (dataset, profile) (the registry's one resolver)."""
    entry = get_recipe(name)
    return resolve_layers(KINDS[entry.kind], entry, dataset, profile, extra, "pretraining overrides")


def recipe_hash(name: str, config) -> str:
    """Hash of what determines the weights (apart from dataset and seed, which key the path)."""
    kind = get_recipe(name).kind
    payload = json.dumps({"kind": kind, "config": dataclasses.asdict(config), "version": FORMAT_VERSION},
                         sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def pretrained_root() -> Path:
    return Path(os.environ.get("CLUSTERBENCH_PRETRAINED") or "resources/pretrained")


def weights_path(profile: str, dataset: str, recipe: str, seed: int, root: Path | None = None) -> Path:
    return Path(root or pretrained_root()) / profile / dataset / recipe / f"seed{seed}.pt"


def failure_path(weights: Path) -> Path:
    """``seed{S}.failed.json`` beside the weights: a pretraining that failed numerically (reason, recipe hash).
    Methods that need those weights fail with its reason instead of retraining; a changed recipe retrains."""
    return weights.with_name(f"{weights.stem}.failed.json")


def recipe_inputs(data, config) -> np.ndarray:
    """The (N, d) float32 matrix a recipe (and the methods built on it) trains on."""
    X = data.flat().astype(np.float32, copy=False)
    return X * np.float32(config.input_scale) if config.input_scale != 1.0 else X


# ----------------------------------------------------------------- the bundle

@dataclass
class Pretrained:
    """A pretrained autoencoder (and ACAI critic) with its provenance."""

    ae: Any                       # clusterbench.blocks.nets.Autoencoder
    critic: Any                   # clusterbench.blocks.nets.Critic or None
    recipe: str
    config: Any
    hash: str
    path: Path
    trained: bool                 # True when this call trained it (False: loaded)
    history: list = field(default_factory=list)
    seconds: float = 0.0          # wall time of the training that produced it

    def inputs(self, data) -> np.ndarray:
        """The recipe's input matrix (N, d) for ``data``."""
        return recipe_inputs(data, self.config)

    def input_tensor(self, data):
        """:meth:`inputs` as a float32 tensor on the autoencoder's device."""
        from .training import as_tensor

        return as_tensor(self.inputs(data), next(self.ae.parameters()).device)

    def info(self) -> dict:
        """What a run record keeps about the pretraining it used."""
        return {"recipe": self.recipe, "kind": get_recipe(self.recipe).kind, "hash": self.hash,
                "config": dataclasses.asdict(self.config), "path": str(self.path),
                "trained_in_this_run": self.trained, "pretrain_wall_s": self.seconds}


def _build(config, input_dim: int, with_critic: bool):
    from .nets import Autoencoder, Critic

    ae = Autoencoder(input_dim, config.hidden, config.embedding_dim, config.init)
    critic = Critic(input_dim, config.hidden, config.embedding_dim, config.init) if with_critic else None
    return ae, critic


def _load(path: Path, chash: str, input_dim: int, recipe: str, config, device) -> Pretrained | None:
    import torch

    if not path.exists():
        return None
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # a truncated or foreign file is stale
        return None
    if payload.get("hash") != chash or payload.get("input_dim") != input_dim:
        return None
    ae, critic = _build(config, input_dim, payload.get("critic") is not None)
    try:
        ae.load_state_dict(payload["ae"])
        if critic is not None:
            critic.load_state_dict(payload["critic"])
    except (RuntimeError, KeyError, TypeError) as error:
        from ..framework.records import RecordError

        first = str(error).strip().splitlines()
        raise RecordError(path, f"its weights do not fit recipe {recipe!r}'s network "
                                f"({' '.join(line.strip() for line in first[:2])}); remove it to retrain") from None
    if critic is not None:
        critic.to(device)
    return Pretrained(ae.to(device), critic, recipe, config, chash, path, False, payload.get("history", []),
                      float(payload.get("wall_s", 0.0)))


def _save(bundle: Pretrained, meta: dict) -> None:
    import torch

    from ..framework.atomic import atomic_path, remove_stale_parts, write_json

    payload = dict(meta, hash=bundle.hash, config=dataclasses.asdict(bundle.config), history=list(bundle.history),
                   ae={k: v.detach().cpu() for k, v in bundle.ae.state_dict().items()},
                   critic=({k: v.detach().cpu() for k, v in bundle.critic.state_dict().items()}
                           if bundle.critic is not None else None))
    remove_stale_parts(bundle.path.parent)  # left by a killed pretraining
    with atomic_path(bundle.path) as tmp:
        torch.save(payload, tmp)
    sidecar = {k: v for k, v in payload.items() if k not in ("ae", "critic")}
    write_json(bundle.path.with_suffix(".json"), sidecar)


def pretrained_autoencoder(data, recipe: str, profile: str, seed: int, device: str = "cpu", *,
                           root: Path | None = None, overrides: dict | None = None) -> Pretrained:
    """Load the pretrained network of (profile, data.name, recipe, seed), training and saving it if needed.

    Training does not disturb the caller's random state (python, numpy, torch),
    so a method gives the same labels whether the weights were loaded or trained.
    """
    from .training import resolve_device

    config = resolve_recipe(recipe, data.name, profile, overrides)
    chash = recipe_hash(recipe, config)
    path = weights_path(profile, data.name, recipe, seed, root)
    X = recipe_inputs(data, config)
    dev = resolve_device(device)
    bundle = _load(path, chash, X.shape[1], recipe, config, dev)
    if bundle is not None:
        return bundle
    marker = failure_path(path)
    if marker.exists():
        try:
            failure = json.loads(marker.read_text())
        except ValueError:
            failure = {}
        if failure.get("hash") == chash:  # the same recipe failed before: every dependent run fails with it
            raise DivergenceError(f"shared pretraining {recipe!r} (seed {seed}) failed: {failure.get('reason')} "
                                  f"[{marker}]")
    from ..framework.runner import precision_mode

    try:
        with precision_mode("fp32", str(dev)):  # shared weights are fp32 whatever the calling run's precision
            bundle = train_recipe(recipe, config, X, data.X.shape[1:] if data.is_image else None, seed, dev)
    except Exception as error:
        reason = numerical_failure(error)
        if reason is None:
            raise
        from ..framework.atomic import write_json

        write_json(marker, {"recipe": recipe, "dataset": data.name, "profile": profile, "seed": seed,
                            "hash": chash, "status": "failed", "reason": reason})
        raise DivergenceError(f"shared pretraining {recipe!r} (seed {seed}) failed: {reason}") from None
    marker.unlink(missing_ok=True)
    bundle.hash, bundle.path = chash, path
    _save(bundle, {"recipe": recipe, "kind": get_recipe(recipe).kind, "dataset": data.name, "profile": profile,
                   "seed": seed, "input_dim": X.shape[1], "wall_s": bundle.seconds, "version": FORMAT_VERSION})
    return bundle


# ----------------------------------------------------------------- training

def train_recipe(recipe: str, config, X: np.ndarray, image_shape, seed: int, device, *,
                 monitor=None) -> Pretrained:
    """Train recipe ``recipe`` on X (N, d) from seed ``seed``; the caller's RNG state is restored after.

    ``monitor(step, ae) -> dict`` (figures only; ae_mse and acai): called at every history row
    (``log_every`` steps) and merged into it; it must not touch the random state or the weights.
    """
    import random

    import torch

    global TRAIN_COUNT
    kind = get_recipe(recipe).kind
    py_state, np_state = random.getstate(), np.random.get_state()
    t0 = time.perf_counter()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        ae, critic = _build(config, X.shape[1], with_critic=(kind == "acai"))
        ae.to(device)
        if critic is not None:
            critic.to(device)
        trainer = {"ae_mse": _train_ae_mse, "ae_denoising": _train_denoising, "acai": _train_acai}[kind]
        kwargs = {"monitor": monitor} if monitor is not None else {}
        history = trainer(ae, critic, config, X, image_shape, seed, device, **kwargs)
    random.setstate(py_state)
    np.random.set_state(np_state)
    TRAIN_COUNT += 1
    ae.eval()
    return Pretrained(ae, critic, recipe, config, "", Path(), True, history, time.perf_counter() - t0)


def _batches_forever(n: int, batch_size: int, gen):
    """Index tensors of shuffled epochs, without end (the last batch of an epoch may be short)."""
    from .training import minibatches

    while True:
        yield from minibatches(n, batch_size, gen, shuffle=True)


def make_optimizer(params, name: str, lr: float, momentum: float):
    """Adam(lr) or SGD(lr, momentum), by name."""
    import torch

    if name == "adam":
        from .training import adam

        return adam(params, lr)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum)
    raise ConfigError(f"unknown optimizer {name!r}; known: adam, sgd")


def shift_rotate_flat(xb, image_shape, shift: float, degrees: float, gen):
    """Augment flat images xb (B, d) as images of ``image_shape`` (C, H, W) or volumes (C, D, H, W, slice-wise);
    returns (B, d)."""
    from .augment import random_shift_rotate

    b = xb.shape[0]
    return random_shift_rotate(xb.reshape(b, *image_shape), shift, degrees, gen).reshape(b, -1)


def _train_ae_mse(ae, critic, c: AEMSEConfig, X, image_shape, seed, device, monitor=None) -> list[dict]:
    import torch.nn.functional as F

    from .training import as_tensor, check_finite, generator, progress

    Xt = as_tensor(X, device)
    gen = generator(seed)
    opt = make_optimizer(ae.parameters(), c.optimizer, c.lr, c.momentum)
    steps_per_epoch = -(-X.shape[0] // c.batch_size)
    total = c.epochs * steps_per_epoch
    if c.max_steps:
        total = min(total, c.max_steps)
    history, running, count = progress(total, "ae_mse pretraining", record=False), 0.0, 0
    if monitor is not None:
        history.append({"step": 0, "epoch": 0.0, **monitor(0, ae)})
    batches = _batches_forever(X.shape[0], c.batch_size, gen)
    for step in range(1, total + 1):
        xb = Xt[next(batches).to(device)]
        loss = F.mse_loss(ae(xb)[1], xb)  # Keras 'mse': mean over elements
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        running, count = running + loss.detach(), count + 1
        if step % c.log_every == 0 or step == total:
            history.append({"step": step, "epoch": step / steps_per_epoch,
                            "loss_rec": check_finite(running / count, "ae_mse loss", step)})
            if monitor is not None:
                history[-1].update(monitor(step, ae))
            running, count = 0.0, 0
    return history


def _train_denoising(ae, critic, c: DenoisingConfig, X, image_shape, seed, device) -> list[dict]:
    import torch
    import torch.nn.functional as F

    from .training import as_tensor, check_finite, generator, predict_in_batches, progress

    def euclidean(out, target):  # Caffe EuclideanLoss: ½ Σ_features, mean over the batch
        return 0.5 * (out - target).pow(2).sum(dim=1).mean()

    def run(params, loss_fn, data, iterations, stage) -> None:
        opt = torch.optim.SGD(params, lr=c.lr, momentum=c.momentum)
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=c.lr_step, gamma=c.lr_gamma)
        batches = _batches_forever(data.shape[0], c.batch_size, gen)
        running, count = 0.0, 0
        for step in range(1, iterations + 1):
            loss = loss_fn(data[next(batches).to(device)])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            running, count = running + loss.detach(), count + 1
            if step % c.log_every == 0 or step == iterations:
                history.append({"stage": stage, "step": step,
                                "loss": check_finite(running / count, f"{stage} loss", step)})
                running, count = 0.0, 0

    gen = generator(seed)
    history: list[dict] = progress(0, "ae_denoising pretraining", record=False)
    encoders, decoders = ae.encoder_linears(), ae.decoder_linears()[::-1]  # decoders[i]: h_{i+1} → h_i
    n_layers = len(encoders)
    h = as_tensor(X, device)
    for i in range(n_layers):
        enc, dec = encoders[i], decoders[i]
        last = i == n_layers - 1

        def layer_loss(hb, enc=enc, dec=dec, i=i, last=last):
            x_in = F.dropout(hb, c.dropout, training=True) if i > 0 else hb
            code = enc(x_in)
            if not last:
                code = F.dropout(F.relu(code), c.dropout, training=True)
            out = dec(code)
            out = F.relu(out) if i > 0 else out  # the deep decoder's activation at this depth
            return euclidean(out, hb)

        run(list(enc.parameters()) + list(dec.parameters()), layer_loss, h, c.layer_iterations, f"layer{i}")
        with torch.no_grad():  # clean codes feed the next layer
            act = (lambda t: t) if last else torch.relu
            h = predict_in_batches(lambda t: act(enc(t)), h)
    Xt = as_tensor(X, device)
    run(list(ae.parameters()), lambda xb: euclidean(ae(xb)[1], xb), Xt, c.finetune_iterations, "finetune")
    return history


def _train_acai(ae, critic, c: ACAIConfig, X, image_shape, seed, device, monitor=None) -> list[dict]:
    import torch
    import torch.nn.functional as F

    from .training import adam, as_tensor, check_finite, generator, progress

    if c.eta not in ("folded", "uniform"):
        raise ValueError(f"acai eta must be 'folded' or 'uniform', got {c.eta!r}")
    Xt = as_tensor(X, device)
    gen = generator(seed)
    opt_ae = adam(ae.parameters(), lr=c.lr)
    opt_c = adam(critic.parameters(), lr=c.lr) if c.critic_trained else None
    critic.requires_grad_(c.critic_trained)  # a frozen critic still passes gradients to the autoencoder
    augment = c.augment and image_shape is not None
    batches = _batches_forever(X.shape[0], c.batch_size, gen)
    history, sums, count = progress(c.iterations, "acai pretraining", record=False), torch.zeros(3, device=device), 0
    if monitor is not None:
        history.append({"step": 0, **monitor(0, ae)})
    for step in range(1, c.iterations + 1):
        xb = Xt[next(batches).to(device)]
        if augment:
            xb = shift_rotate_flat(xb, image_shape, c.shift, c.degrees, gen)
        b = xb.shape[0]
        alpha = (torch.rand(b, 1, generator=gen) * c.alpha_max).to(device)
        u = float(torch.rand(1, generator=gen))
        eta = u if c.eta == "uniform" else 0.5 - abs(u - 0.5)
        # autoencoder step, Eq. (1): reconstruction + λ·c(x̂_α)² (critic weights not stepped)
        z = ae.encoder(xb)
        x_rec = ae.decoder(z)
        x_interp = ae.decoder(alpha * z + (1 - alpha) * z.flip(0))
        loss_rec = F.mse_loss(x_rec, xb)
        loss_ae = loss_rec + c.adv_weight * critic(x_interp).pow(2).mean()
        opt_ae.zero_grad(set_to_none=True)
        loss_ae.backward()
        opt_ae.step()
        # critic step, Eq. (2), on the interpolants and reconstructions from before the AE step
        x_interp, x_rec = x_interp.detach(), x_rec.detach()
        loss_c = (critic(x_interp) - alpha[:, 0]).pow(2).mean() + critic(eta * xb + (1 - eta) * x_rec).pow(2).mean()
        if opt_c is not None:
            opt_c.zero_grad(set_to_none=True)
            loss_c.backward()
            opt_c.step()
        else:
            loss_c = loss_c.detach()
        sums += torch.stack([loss_rec.detach(), loss_ae.detach(), loss_c.detach()])
        count += 1
        if step % c.log_every == 0 or step == c.iterations:
            rec, tot, crit = (sums / count).tolist()
            history.append({"step": step, "loss_rec": check_finite(rec, "acai reconstruction loss", step),
                            "loss_ae": check_finite(tot, "acai autoencoder loss", step),
                            "loss_critic": check_finite(crit, "acai critic loss", step)})
            if monitor is not None:
                history[-1].update(monitor(step, ae))
            sums.zero_()
            count = 0
    return history


# ----------------------------------------------------------------- DAG entry point

def pretrain_seeds(recipe: str, dataset: str, profile: str, seeds: list[int], *, device: str = "cpu",
                   mirror: str | None = None, root: Path | None = None, strict: bool = False,
                   log=print) -> dict:
    """Pretrain (or validate) every seed of one (profile, dataset, recipe) in this process; a summary dict."""
    from ..data import DatasetUnavailable, load_dataset

    config = resolve_recipe(recipe, dataset, profile)
    summary = {"recipe": recipe, "kind": get_recipe(recipe).kind, "dataset": dataset, "profile": profile,
               "seeds": list(seeds), "hash": recipe_hash(recipe, config), "config": dataclasses.asdict(config)}
    try:
        data = load_dataset(dataset, mirror=mirror)
    except DatasetUnavailable as error:
        if strict:
            raise
        log(f"[pretrain {recipe}/{dataset}] dataset unavailable: {error}")
        return dict(summary, status="unavailable", reason=str(error))
    from .training import keep_freed_memory

    keep_freed_memory()  # as the methods' runs: reuse freed activation memory (same results)
    files, trained, failed = [], [], {}
    for seed in seeds:
        t0 = time.perf_counter()
        try:
            bundle = pretrained_autoencoder(data, recipe, profile, seed, device, root=root)
        except DivergenceError as error:  # recorded beside the weights; the dependent runs become failed records
            failed[str(seed)] = str(error)
            log(f"[pretrain {recipe}/{dataset}] seed {seed}: failed: {error}")
            continue
        files.append(str(bundle.path))
        if bundle.trained:
            trained.append(seed)
        log(f"[pretrain {recipe}/{dataset}] seed {seed}: {'trained' if bundle.trained else 'reused'} "
            f"({time.perf_counter() - t0:.1f} s)")
    return dict(summary, status="failed" if failed else "ok", files=files, trained=trained, failed=failed)


# ----------------------------------------------------------------- methods built on a pretrained network


class PretrainedAEMethod(ClusteringMethod):
    """Base of methods that start from a shared pretrained autoencoder.

    ``pretrain`` (class attribute) is the paper's recipe; the run context
    (:class:`clusterbench.framework.base.RunContext`, given by the runner from the
    method's YAML ``pretrain:`` key) may name another, and its ``profile`` says
    whose weights of (profile, dataset, recipe, seed) are found or made. Used
    directly, a method pretrains with the ``paper`` profile's budget.
    """

    needs_torch = True
    pretrain: str = "ae_mse"

    @property
    def recipe(self) -> str:
        """The pretraining recipe of this run: the context's, else the class's paper recipe."""
        return self.context.pretrain or self.pretrain

    def pretrained(self, data, seed: int, device: str = "cpu") -> Pretrained:
        bundle = pretrained_autoencoder(data, self.recipe, self.context.profile, seed, device,
                                        overrides=self.context.pretrain_overrides)
        self.run_info = {"pretrain": bundle.info()}
        return bundle
