// Reference outputs of nsfwjs's MobileNetV2Mid model on the synthetic images of tests/ml/pretrained/synthetic.py.
//
// Run in a scratch folder (see README.md): writes one JSON document to the file named by its argument
// (default reference.json; tfjs prints banners on stdout). The images are built from integer
// formulas identical to the Python ones, passed to nsfwjs as int32 [224, 224, 3] tensors: nsfwjs's own infer()
// then divides by 255 and (224 px already) skips its resize, exactly as for a decoded 224×224 image.
import * as tf from "@tensorflow/tfjs";
import * as nsfwjs from "nsfwjs";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const nsfwjsDir = join(dirname(createRequire(import.meta.url).resolve("nsfwjs")), "..", ".."); // from dist/cjs/
const SIZE = 224;
const FEATURES_NODE =
  "StatefulPartitionedCall/sequential/keras_layer/StatefulPartitionedCall/StatefulPartitionedCall/" +
  "StatefulPartitionedCall/predict/feature_vector/SpatialSqueeze";
const FEATURE_HEAD = 8;

// (x = column, y = row, c = channel) → 0..255; keep in step with synthetic.py
const IMAGES = {
  gradient: (x, y, c) => [Math.floor((x * 255) / 223), Math.floor((y * 255) / 223), Math.floor(((x + y) * 255) / 446)][c],
  checkerboard: (x, y) => ((Math.floor(x / 28) + Math.floor(y / 28)) % 2 ? 255 : 0),
  blocks: (x, y, c) =>
    [
      [230, 40, 40],
      [40, 200, 60],
      [50, 70, 220],
      [240, 220, 90],
    ][(y < 112 ? 0 : 2) + (x < 112 ? 0 : 1)][c],
  noise: (x, y, c) => (Math.imul(x, 73856093) ^ Math.imul(y, 19349663) ^ Math.imul(c, 83492791)) & 255,
  radial: (x, y, c) => {
    const d = (x - 112) * (x - 112) + (y - 112) * (y - 112);
    const v = Math.max(0, 255 - Math.floor((d * 255) / 25088));
    return [v, (v * 3) >> 2, v >> 1][c];
  },
};

function pixels(pixel) {
  const data = new Int32Array(SIZE * SIZE * 3); // row-major [y][x][c], like a decoded image
  for (let y = 0; y < SIZE; y++)
    for (let x = 0; x < SIZE; x++) for (let c = 0; c < 3; c++) data[(y * SIZE + x) * 3 + c] = pixel(x, y, c);
  return data;
}

await tf.setBackend("cpu");
const model = await nsfwjs.load("MobileNetV2Mid", { type: "graph" });
const result = {
  nsfwjs: JSON.parse(readFileSync(join(nsfwjsDir, "package.json"), "utf8")).version,
  tfjs: tf.version.tfjs,
  backend: tf.getBackend(),
  images: {},
};
for (const [name, pixel] of Object.entries(IMAGES)) {
  const data = pixels(pixel);
  const img = tf.tensor3d(data, [SIZE, SIZE, 3], "int32");
  const probabilities = Array.from(await model.infer(img).data());
  const classified = Object.fromEntries((await model.classify(img, 5)).map((p) => [p.className, p.probability]));
  const features = tf.tidy(() => model.model.execute(img.toFloat().div(255).reshape([1, SIZE, SIZE, 3]), FEATURES_NODE));
  const values = Array.from(await features.data());
  result.images[name] = {
    pixels_sha256: createHash("sha256").update(Uint8Array.from(data)).digest("hex"),
    nsfw: probabilities,
    classify: classified,
    features_head: values.slice(0, FEATURE_HEAD),
    features_norm: Math.hypot(...values),
    features_len: values.length,
  };
  img.dispose();
  features.dispose();
}
writeFileSync(process.argv[2] ?? "reference.json", JSON.stringify(result, null, 1) + "\n");
