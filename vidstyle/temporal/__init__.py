"""Temporal consistency for video: the warping-error evaluation (Lai et al. 2018) and the offline
flicker-free render (Ruder et al. 2016). The live ``--temporal smooth`` stabilizer is in
:mod:`vidstyle.flow.stabilize`."""
