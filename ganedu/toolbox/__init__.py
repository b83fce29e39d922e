r"""The stabilisation toolbox: tricks the classic GAN guides recommend, each small and tested.

One module per trick. Already elsewhere: one-sided label smoothing (:func:`ganedu.losses.smoothed_minimax_d`), the
gradient penalty, R1 and weight clipping (:mod:`ganedu.penalties`), spectral normalisation,
self-attention and minibatch standard deviation (:mod:`ganedu.nets.layers`). Here:

- :class:`InstanceNoise`: Gaussian noise on D's inputs, annealed to zero (Sønderby et al. 2017).
- :func:`feature_matching_loss` and :class:`FeatureMatchingGAN`: G matches the mean of D's
  features on real data instead of fooling D's output (Salimans et al. 2016).
- :func:`ttur_optimizers`: the two time-scale update rule, D learning faster than G
  (Heusel et al. 2017).
- :class:`UnrolledGAN`: G's loss taken against D unrolled k steps ahead (Metz et al. 2017).
"""

from ganedu.toolbox.feature_matching import FeatureMatchingGAN, feature_matching_loss
from ganedu.toolbox.instance_noise import InstanceNoise
from ganedu.toolbox.ttur import ttur_optimizers
from ganedu.toolbox.unrolled import UnrolledGAN

__all__ = ["FeatureMatchingGAN", "InstanceNoise", "UnrolledGAN", "feature_matching_loss", "ttur_optimizers"]
