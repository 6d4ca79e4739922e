import { AdamBase, type AdamHyper } from './adam.js';

/**
 * torch.optim.AdamW: Adam with decoupled weight decay (Loshchilov & Hutter 2019),
 * p ← p (1 − lr·wd) − lr · m̂ / (√v̂ + eps); see `adamUpdate`. Defaults as PyTorch's:
 * lr 1e-3, betas [0.9, 0.999], eps 1e-8, weightDecay 0.01.
 */
export class AdamW extends AdamBase {
  protected readonly decoupled = true;

  constructor(options: Partial<AdamHyper> = {}) {
    super('adamw', { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2 }, options);
  }
}
