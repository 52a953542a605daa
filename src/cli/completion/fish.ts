/** fish completions, from the command surface. */
import type { ArgumentSurface, CommandSurface, OptionSurface, Surface, ValueSurface } from '../surface.js';
import { header, namesOf, oneLine, wordsOf } from './common.js';

const INSTALL = 'copy to ~/.config/fish/completions/certman.fish';

export function fishCompletion(surface: Surface): string {
  // Options of the program that take a value: their value is not the command.
  const valued = surface.options.filter((o) => o.value !== undefined);
  const lines: string[] = [
    ...header('fish', INSTALL),
    '',
    '# The command on the line (aliases resolved), or nothing before one.',
    'function __certman_command',
    '    set -l tokens (commandline -opc)',
    '    set -l skip 0',
    '    for token in $tokens[2..-1]',
    '        if test $skip = 1',
    '            set skip 0',
    '            continue',
    '        end',
    '        switch $token',
    `            case ${patterns(valued)}`,
    '                set skip 1',
    "            case '-*'",
    ...surface.commands.flatMap((c) => [`            case ${namesOf(c).join(' ')}`, `                echo ${c.name}`, '                return 0']),
    "            case '*'",
    '                echo $token',
    '                return 0',
    '        end',
    '    end',
    '    return 1',
    'end',
    '',
    'function __certman_needs_command',
    '    not __certman_command >/dev/null',
    'end',
    '',
    'function __certman_using_command',
    '    set -l command (__certman_command); or return 1',
    '    contains -- $command $argv',
    'end',
    '',
    'function __certman_commands',
    ...surface.commands.flatMap((c) => namesOf(c).map((name) => `    printf '%s\\t%s\\n' ${name} ${quote(oneLine(c.description))}`)),
    'end',
    '',
    '# How many arguments the command has so far (options and their values not counted).',
    'function __certman_argument_count',
    '    set -l tokens (commandline -opc)',
    '    set -l count -1',
    '    set -l skip 0',
    '    for token in $tokens[2..-1]',
    '        if test $skip = 1',
    '            set skip 0',
    "        else if string match -q -- '--*=*' $token",
    "        else if string match -q -- '-*' $token",
    '            __certman_takes_value (__certman_command) $token; and set skip 1',
    '        else',
    '            set count (math $count + 1)',
    '        end',
    '    end',
    '    echo $count',
    'end',
    '',
    '# Whether option $argv[2] of command $argv[1] takes a value.',
    'function __certman_takes_value',
    '    switch $argv[2]',
    ...takesValueCase(surface.options),
    '    end',
    '    switch $argv[1]',
    ...surface.commands.flatMap((c) => {
      const cases = takesValueCase(c.options);
      return cases.length === 0 ? [] : [`        case ${c.name}`, '            switch $argv[2]', ...cases.map((l) => `    ${l}`), '            end'];
    }),
    '    end',
    '    return 1',
    'end',
    '',
    '# Certificate names in the store, from a hidden command that only lists their names.',
    'function __certman_cert_names',
    '    set -l tokens (commandline -opc)',
    '    set -l args',
    '    for i in (seq 2 (count $tokens))',
    '        switch $tokens[$i]',
    "            case '--config-dir=*' '--store=*'",
    "                set -a args (string split -m 1 -- '=' $tokens[$i])",
    '            case --config-dir --store',
    '                set -l next (math $i + 1)',
    '                set -q tokens[$next]; and set -a args $tokens[$i] $tokens[$next]',
    '        end',
    '    end',
    '    $tokens[1] __complete cert-names $args 2>/dev/null',
    'end',
    '',
    'complete -c certman -f',
    '',
    '# Commands',
    ...surface.commands.flatMap((c) => namesOf(c).map((name) => `complete -c certman -n __certman_needs_command -a ${name} -d ${quote(oneLine(c.description))}`)),
    '',
    '# Options of the program (before or after the command)',
    // --version only before a command; --help and the shared options everywhere.
    ...surface.options.map((o) => optionLine(o, o.long === '--version' ? '__certman_needs_command' : undefined)),
    ...surface.commands.flatMap((c) => commandLines(c)),
    '',
  ];
  return lines.join('\n');
}

function commandLines(command: CommandSurface): string[] {
  const condition = `__certman_using_command ${namesOf(command).join(' ')}`;
  return [
    '',
    `# ${command.name}`,
    ...command.options.filter((o) => o.long !== '--help').map((o) => optionLine(o, condition)),
    ...command.arguments.map((a, index) => argumentLine(a, index, condition)),
  ];
}

function optionLine(option: OptionSurface, condition: string | undefined): string {
  const parts = ['complete -c certman'];
  if (condition !== undefined) parts.push(`-n ${quote(condition)}`);
  // Commander keeps the first of two long spellings (`--no-email, --register-unsafely-without-email`) as `short`.
  if (option.short !== undefined) parts.push(option.short.startsWith('--') ? `-l ${option.short.slice(2)}` : `-s ${option.short.slice(1)}`);
  if (option.long !== undefined) parts.push(`-l ${option.long.slice(2)}`);
  if (option.value !== undefined) parts.push(valueFlags(option.value));
  parts.push(`-d ${quote(oneLine(option.description))}`);
  return parts.join(' ');
}

function argumentLine(argument: ArgumentSurface, index: number, condition: string): string {
  const position = argument.variadic ? `test (__certman_argument_count) -ge ${index}` : `test (__certman_argument_count) -eq ${index}`;
  return `complete -c certman -n ${quote(`${condition}; and ${position}`)} ${valueFlags(argument.value)} -d ${quote(oneLine(argument.description || (argument.value.kind === 'command' ? 'a certman command' : argument.name)))}`;
}

/** `-r` (takes a value) plus what to offer; `-F` lets fish complete files, `-f` stops it. */
function valueFlags(value: ValueSurface): string {
  const words = wordsOf(value);
  if (words !== undefined) return `-x -a ${quote(words.join(' '))}`;
  switch (value.kind) {
    case 'file':
      return '-r -F';
    case 'directory':
      return `-x -a ${quote('(__fish_complete_directories)')}`;
    case 'cert-name':
      return `-x -a ${quote('(__certman_cert_names)')}`;
    case 'user':
      return `-x -a ${quote('(__fish_complete_users)')}`;
    case 'command':
      return `-x -a ${quote('(__certman_commands)')}`;
    case 'text':
      return '-x';
  }
}

function takesValueCase(options: OptionSurface[]): string[] {
  const valued = options.filter((o) => o.value !== undefined);
  return valued.length === 0 ? [] : [`        case ${patterns(valued)}`, '            return 0'];
}

/** `'-d' '--domain' …`: quoted, so fish never reads a pattern as an option of `case`. */
function patterns(options: OptionSurface[]): string {
  return options.flatMap((o) => [o.short, o.long].filter((n): n is string => n !== undefined)).map(quote).join(' ');
}

/** Single-quoted for fish: only \ and ' are special inside. */
function quote(text: string): string {
  return `'${text.replace(/[\\']/g, (c) => `\\${c}`)}'`;
}
