import * as vscode from 'vscode';
import type { LintConfig, Severity } from '../core/lint/config';
import type { BackendChoice } from '../shared/probeProtocol';

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

  get probeBackend(): BackendChoice {
    return this.section.get<BackendChoice>('probe.backend', 'auto');
  }

  get probeDevice(): 'auto' | 'cpu' | 'cuda' {
    return this.section.get<'auto' | 'cpu' | 'cuda'>('probe.device', 'auto');
  }

  get probePythonPath(): string {
    return this.section.get<string>('probe.pythonPath', '');
  }

  get probeSteps(): number {
    return this.section.get<number>('probe.steps', 300);
  }

  get probeBatchSize(): number {
    return this.section.get<number>('probe.batchSize', 64);
  }

  get probeLearningRate(): number {
    return this.section.get<number>('probe.learningRate', 1e-3);
  }

  get probeSeeds(): number {
    return this.section.get<number>('probe.seeds', 1);
  }

  get probeLosses(): string[] {
    return this.section.get<string[]>('probe.losses', ['ce', 'ls', 'cc-ls']);
  }

  get probeAlpha(): number {
    return this.section.get<number>('probe.alpha', 0.1);
  }

  get probeTemperature(): number {
    return this.section.get<number>('probe.temperature', 2);
  }

  get probeEvalEvery(): number {
    return this.section.get<number>('probe.evalEvery', 25);
  }

  get probeEvalRows(): number {
    return this.section.get<number>('probe.evalRows', 1000);
  }

  get probeFashionMnistDir(): string {
    return this.section.get<string>('probe.fashionMnistDir', '');
  }

  get probeMaxHeapMb(): number {
    return this.section.get<number>('probe.maxHeapMb', 4096);
  }

  get lintEnable(): boolean {
    return this.section.get<boolean>('lint.enable', true);
  }

  get lintCodeLens(): boolean {
    return this.lintEnable && this.section.get<boolean>('lint.codeLens', true);
  }

  lintUsePyproject(scope?: vscode.Uri): boolean {
    return vscode.workspace.getConfiguration('lossLens', scope).get<boolean>('lint.usePyproject', true);
  }

  /**
   * The lint settings the user gave (at any level), as overrides for mergeLintSettings: a key
   * left at its default is absent, so a pyproject's value for it stands (the merge rule).
   */
  lintOverrides(scope?: vscode.Uri): LintConfig {
    const section = vscode.workspace.getConfiguration('lossLens', scope);
    const given = <T>(key: string): T | undefined => {
      const i = section.inspect<T>(key);
      return i?.workspaceFolderValue ?? i?.workspaceValue ?? i?.globalValue;
    };
    const out: LintConfig = {};
    const select = given<string[]>('lint.select');
    const ignore = given<string[]>('lint.ignore');
    const exclude = given<string[]>('lint.exclude');
    const severity = given<Record<string, Severity>>('lint.severity');
    if (Array.isArray(select)) out.select = select;
    if (Array.isArray(ignore)) out.ignore = ignore;
    if (Array.isArray(exclude)) out.exclude = exclude;
    if (severity && typeof severity === 'object') out.severity = severity;
    return out;
  }
}
