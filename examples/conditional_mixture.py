"""A conditional GAN learns each Gaussian of the thesis's mixture on demand (thesis 5.1.1).

The class is the mixture component: G(z, y) and D(x, y) get the label one-hot, concatenated to
z and to x. Real pairs (x, y) come from the mixture; the fakes' labels are drawn by the class
weights (0.4, 0.2, 0.2, 0.2), or uniformly with --labels uniform. Each class is scored exactly
against its own Gaussian: KL(N(mean, cov of the samples) || the component), the thesis's
histogram metric (fig 5.2), Mahalanobis-2 coverage; and jointly, the true Bayes classifier's
accuracy on generated pairs (a perfect sampler gets the mixture's Bayes rate, 0.894).

Two presets (every setting is also a flag, and a flag wins):
- ``thesis``: one hidden layer of 1024 units in G and D, latent Uniform[0,1]^100, Adam
  (2e-4, beta1 0.5), minibatch 64, 50,000 turns. Its classes end far from their Gaussians.
- ``robust`` (the default): the main job's 64-32 networks, latent N(0, I)^10, minibatch 256,
  the rate held for a quarter of the run then decayed to 0, samples from a moving average of
  G's weights (0.9995). Chosen by the worst class over 20 seeds (README).

Writes to --out: checkpoint.npz, samples.npy (10,000 samples per class: (4, 10000, 2)),
samples_per_class.png (fig 5.1), metrics_per_class.png (fig 5.2: does the heaviest class
settle first?), samples_over_density.png and metrics.png (the pooled samples), metrics.json.

    python examples/conditional_mixture.py                    # the robust recipe, seed 0
    python examples/conditional_mixture.py --preset thesis    # the thesis's run
    python examples/conditional_mixture.py --seeds 0-4        # README's table

Exit status: 0 complete; 2 a bad flag or folder; 3 diverged; 130 interrupted (resume with
--resume OUT); 1 a seed of --seeds failed, or the disk refused a write.
"""
from minigan.experiments.conditional_mixture import PRESETS, ConditionalMixtureGAN
from minigan.runs import cli

EXPERIMENT = ConditionalMixtureGAN(__file__)
SETTINGS = EXPERIMENT.settings
parse_args, build = EXPERIMENT.parse_args, EXPERIMENT.build
main = cli(EXPERIMENT.main)

__all__ = ["EXPERIMENT", "PRESETS", "SETTINGS", "build", "main", "parse_args"]

if __name__ == "__main__":
    main()
