import Imaging

/// No-reference fusion-quality metrics and full-reference PSNR/SSIM. Filled in below.
public enum FusionMetrics {}
