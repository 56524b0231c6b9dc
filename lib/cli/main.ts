#!/usr/bin/env node
/**
 * The `torchrnn` command: inspect a PyTorch state dict or checkpoint, run its recurrent layer, or generate text with
 * the shipped demo model.
 *
 * @packageDocumentation
 */
import { Command } from 'commander';
import { readFileSync } from 'fs';
import * as path from 'path';
import { demo } from './demo';
import { inspect } from './inspect';
import { run, type RunOptions } from './run';

const DEFAULT_PROMPT = 'Shall I compare thee';

function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
  return manifest.version;
}

/** Runs a command's work; its failure is one line on stderr and exit code 1, not a stack trace. */
async function report(work: () => Promise<string[] | string>): Promise<void> {
  try {
    const result = await work();
    process.stdout.write(`${Array.isArray(result) ? result.join('\n') : result}\n`);
  } catch (error) {
    process.stderr.write(`torchrnn: ${(error as Error).message}\n`);
    process.exitCode = 1;
  }
}

function parseNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || Number.isNaN(n)) throw new Error(`not a number: '${value}'`);
  return n;
}

const program = new Command('torchrnn')
  .description("PyTorch's RNN, LSTM and GRU in Node: look into a state dict, run it, or try the demo model")
  .version(packageVersion())
  .showHelpAfterError();

program
  .command('inspect')
  .description(
    'list the entries of a state dict or checkpoint (path, shape and dtype, or value), and each recurrent layer in it ' +
      'with the options its weights cannot tell',
  )
  .argument('<file>', 'a torch.save file (.pt, .pth: a state dict or a checkpoint dict) or a .safetensors file')
  .option('--prefix <prefix>', "only entries under this dotted path, e.g. 'model.encoder.rnn.'")
  .action((file: string, options: { prefix?: string }) => report(() => inspect(file, options)));

program
  .command('run')
  .description("run the forward of the file's recurrent layer (RNN, LSTM or GRU) in eval mode on an input")
  .argument('<file>', 'a torch.save file (.pt, .pth: a state dict or a checkpoint dict) or a .safetensors file')
  .requiredOption('--input <file>', 'the input: .npy, .json (a nested array) or .safetensors (one tensor)')
  .option('--output <file>', 'write the output to .npy, or output, h_n (and c_n) to .safetensors or .json')
  .option('--mode <mode>', 'lstm, gru or rnn (default: inferred from the shapes)')
  .option('--nonlinearity <name>', "tanh or relu, for an rnn (the weights cannot tell)", 'tanh')
  .option('--prefix <prefix>', "the layer's dotted path, e.g. 'model.encoder.rnn.' (needed when the file holds several)")
  .option('--batch-first', 'input and output are (batch, seq, feature)', false)
  .action((file: string, options: RunOptions) => report(() => run(file, options)));

program
  .command('demo')
  .description(
    'continue a prompt with a small character-level LSTM trained on Shakespeare\'s sonnets (shipped with the package). ' +
      'Characters are sampled from softmax(logits / temperature) with torchrnn\'s own generator seeded by --seed, ' +
      'so a seed gives the same text every time; --temperature 0 picks the most likely character at each step.',
  )
  .option('--prompt <text>', 'the text to continue', DEFAULT_PROMPT)
  .option('--length <n>', 'characters to generate', parseNumber, 400)
  .option('--temperature <t>', 'sampling temperature; 0 for greedy decoding', parseNumber, 0.6)
  .option('--seed <n>', 'seed of the sampling (manualSeed)', parseNumber, 0)
  .action((options: { prompt: string; length: number; temperature: number; seed: number }) => report(() => demo(options)));

void program.parseAsync(process.argv);
