"""The thesis's DCGAN on Fashion-MNIST (thesis 4.2.2), and with --conditional the conditional
DCGAN (5.1.2), judged by the thesis's CNN.

G: z ~ Uniform[-1, 1]^100 -> fully connected to 128x7x7 -> transposed convolutions to 64
channels at 14x14 and 32 at 28x28 (batch norm, ReLU) -> a 3x3 convolution to the image, tanh.
D: convolutions to 32 (14x14), 64 (7x7), 128 (4x4) channels, LeakyReLU 0.2, batch norm on the
last two, a linear logit. Conditional: the label one-hot concatenated to z, and as 10 constant
feature maps on D's input. Adam (2e-4, beta1 0.5), minibatch 64, real and fake through D as
separate batches (batch norm). DCGAN-paper initialisation.

After every epoch, 10,000 samples are scored by the judge (a trained ThesisCNN: --judge, by
default runs/cnn_judge/model.npz, trained for 3 epochs the first time): FID_cnn against the
test images beside the floor real images get, the class proportions, and for the conditional
model GAN-test accuracy. Writes to --out: checkpoint.npz (each epoch; --resume continues bit
for bit), samples.npy (10,000 samples of the final G, (10000, 1, 28, 28) in [-1, 1]) and for
the conditional model labels.npy (1,000 per class), samples_grid.png (fig 4.14),
fixed_latents.png (fig 4.16), classes.png (fig 5.3, conditional), metrics.png, metrics.json.

    python examples/dcgan.py                      # 5 epochs
    python examples/dcgan.py --conditional --epochs 3
    python examples/dcgan.py --preset thesis      # the thesis's learning rate, 1e-3
    python examples/dcgan.py --data-folder DIR --image-size 64   # colour images (CelebA)

--data-folder trains on a folder of JPEG/PNG images instead (centre-cropped and resized,
in colour), at 28x28 or, with --image-size 64, with the thesis's CelebA model: one more
up-sampling layer in G (256x8x8 -> 128 @ 16 -> 64 @ 32 -> 32 @ 64) and one more strided
convolution in D. Such a run has no labels and no judge: it records the losses and D's
outputs per epoch, and keeps 1,000 samples.
"""
from minigan.experiments.dcgan import DCGAN, PRESETS, SETTINGS
from minigan.runs import cli

EXPERIMENT = DCGAN(__file__)
parse_args, build = EXPERIMENT.parse_args, EXPERIMENT.build
main = cli(EXPERIMENT.main)

__all__ = ["EXPERIMENT", "PRESETS", "SETTINGS", "build", "main", "parse_args"]

if __name__ == "__main__":
    main()
