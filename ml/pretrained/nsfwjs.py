"""What we take from the npm package ``nsfwjs``: the pinned release and the facts of its ``mobilenet_v2_mid`` model.

Checked against nsfwjs 4.4.0's own source (``dist/esm/core.js``, ``nsfw_classes.js``) and graph:
- nsfwjs feeds ``pixels / 255`` (bilinear resize with ``alignCorners`` only when not 224×224); the graph itself
  computes ``x·2 − 1`` (``hub_input/Mul``, ``hub_input/Sub``), so the model's input is RGB in [0, 1];
- the TF-Hub MobileNetV2 (α=1.4, batch norm folded) ends in a 7×7 ``AvgPool`` + ``Squeeze``: the 1792-d features;
- a dense + softmax head gives 5 probabilities in the order of ``NSFW_CLASSES``.
"""

PACKAGE = "nsfwjs"
VERSION = "4.4.0"  # the newest 4.x when pinned
TARBALL_SHA256 = "585cd178f3b994337c4d10a87b080d342fc52f8b9bf0085c4d1f345a3a1c5382"
LICENSE = "MIT"
MODEL = "mobilenet_v2_mid"
MODEL_DIR = f"package/dist/models/{MODEL}/"  # inside the tarball
LICENSE_FILE = "package/LICENSE"

CLASSES = ("Drawing", "Hentai", "Neutral", "Porn", "Sexy")
INPUT_SIZE = 224
FEATURE_DIM = 1792

_PREDICT = "StatefulPartitionedCall/sequential/keras_layer/StatefulPartitionedCall/StatefulPartitionedCall/"
FEATURES_NODE = _PREDICT + "StatefulPartitionedCall/predict/feature_vector/SpatialSqueeze"
PROBABILITIES_NODE = "Identity"
OUTPUTS = {"features": FEATURES_NODE, "nsfw": PROBABILITIES_NODE}
