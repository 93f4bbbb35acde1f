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
}
