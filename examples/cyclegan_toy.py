"""CycleGAN's four-player game on two 2-D domains with a known true mapping, scored exactly.

X is the thesis's mixture of four Gaussians; Y is X under a fixed affine map y = A x + b
(rotation, scaling, shift). T: X -> Y and R: Y -> X are trained from unpaired minibatches
against two discriminators, with the cycle losses |R(T(x)) - x|_1 + |T(R(y)) - y|_1 weighted
by 10 (Zhu et al. 2017). Because A is known, the run is scored exactly: the mapping errors
|T(x) - (A x + b)| and |R(y) - A^-1 (y - b)|, the cycle errors, each as a fraction of its
domain's spread, and T(X)'s exact distance from Y's density.

Two presets. ``affine`` (the default): T and R are affine maps, the class the true map is in,
starting at the identity, with a learning rate 25 times the discriminators'; 30,000 turns.
``mlp``: T and R are MLPs of 64-64 units from a random start, as the paper's networks are;
10,000 turns. Every setting is also a flag.

    python examples/cyclegan_toy.py                   # the affine preset, seed 0 (about 1 min)
    python examples/cyclegan_toy.py --seeds 0-2       # three seeds, summarised
    python examples/cyclegan_toy.py --lam-adv 0       # the cycle alone: which map does it pick?
    python examples/cyclegan_toy.py --preset mlp      # flexible maps

Writes to --out: checkpoint.npz, samples.npy (T of 10,000 points of X), arrows.png (x -> T(x)
over both densities, beside the true A x + b), metrics.png, and metrics.json last. The
runner's usual flags apply (--resume, --seeds, --profile, --no-progress).
"""
from minigan.experiments.cyclegan import PRESETS, SETTINGS, CycleToy
from minigan.runs import cli

EXPERIMENT = CycleToy(__file__)
parse_args, build = EXPERIMENT.parse_args, EXPERIMENT.build
main = cli(EXPERIMENT.main)

__all__ = ["EXPERIMENT", "PRESETS", "SETTINGS", "build", "main", "parse_args"]

if __name__ == "__main__":
    main()
