/**
 * The PyTorch case a consumer project runs through an installed torchrnn (helpers/consumer/ holds the
 * scripts), and how its report is checked. Shared by the package test and the runtime matrix.
 */
import * as fs from 'fs';
import * as path from 'path';
import { mismatches } from './close';
import type { ModuleCase } from './fixture_cases';
import { FixtureTensor, loadCases, toTensor } from './fixtures';

/** What the consumer scripts in helpers/consumer/ print. */
export interface ConsumerReport {
  binary: string;
  backend: string;
  names?: string[];
  cjsNames?: string[];
  results: { output: FixtureTensor; h_n: FixtureTensor; c_n?: FixtureTensor };
}

/**
 * The PyTorch case: float32, three bidirectional layers, batch-first, a projection and a given initial
 * state, so that one case passes through most of the engine.
 */
export const CASE = loadCases<ModuleCase>('modules.json').find((c) => c.name === 'lstm-016') as ModuleCase;

const CONSUMER_SCRIPTS = path.join(__dirname, 'consumer');

/** Puts the consumer scripts and the fixture case next to an installed project's package.json. */
export function addConsumerScripts(project: string): void {
  for (const file of fs.readdirSync(CONSUMER_SCRIPTS)) {
    fs.copyFileSync(path.join(CONSUMER_SCRIPTS, file), path.join(project, file));
  }
  fs.writeFileSync(path.join(project, 'case.json'), JSON.stringify(CASE));
}

/** Where a consumer's results differ from PyTorch's beyond float32 rounding; empty when they agree. */
export function pytorchMismatches(report: ConsumerReport): string[] {
  const pairs: [ReturnType<typeof toTensor>, ReturnType<typeof toTensor>, string][] = [
    [toTensor(report.results.output), toTensor(CASE.output), 'output'],
    [toTensor(report.results.h_n), toTensor(CASE.h_n), 'h_n'],
  ];
  if (CASE.c_n) pairs.push([toTensor(report.results.c_n as FixtureTensor), toTensor(CASE.c_n), 'c_n']);
  return mismatches(pairs);
}
