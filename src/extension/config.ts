import * as vscode from 'vscode';

export type NormalizerInterpretation = 'infer' | 'ask' | 'probabilities' | 'logits';

/** Typed access to the `lossLens.*` settings (documented in package.json). */
export class Config {
  private get section(): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration('lossLens');
  }

  get normalizerInterpretation(): NormalizerInterpretation {
    return this.section.get<NormalizerInterpretation>('normalizer.interpretation', 'infer');
  }

  get normalizerSumTolerance(): number {
    return this.section.get<number>('normalizer.sumTolerance', 1e-6);
  }

  get labelsSumTolerance(): number {
    return this.section.get<number>('labels.sumTolerance', 1e-3);
  }

  get labelsMaxFlaggedRows(): number {
    return this.section.get<number>('labels.maxFlaggedRows', 10_000);
  }

  /** .npz: the array to inspect; empty for the default choice. */
  get labelsArray(): string | undefined {
    return this.section.get<string>('labels.npzArray', '') || undefined;
  }
}
