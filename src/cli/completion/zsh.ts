/**
 * zsh completion function (`_certman`), from the command surface. Works autoloaded from $fpath
 * and sourced (`source <(certman completion zsh)` after compinit).
 */
import type { ArgumentSurface, CommandSurface, OptionSurface, Surface, ValueSurface } from '../surface.js';
import { header, namesOf, oneLine, sharedOptions, wordsOf } from './common.js';

const INSTALL = 'copy to a folder in $fpath (e.g. /usr/local/share/zsh/site-functions) as _certman, then run compinit';

export function zshCompletion(surface: Surface): string {
  const shared = sharedOptions(surface);
  const own = surface.options.filter((o) => !shared.includes(o));
  const lines: string[] = [
    '#compdef certman',
    ...header('zsh', INSTALL),
    '',
    '_certman_commands() {',
    '  local -a commands',
    '  commands=(',
    ...surface.commands.flatMap((c) => namesOf(c).map((name) => `    ${quote(`${name.replace(/:/g, '\\:')}:${oneLine(c.description)}`)}`)),
    '  )',
    "  _describe -t commands 'certman command' commands",
    '}',
    '',
    '# Certificate names in the store, from a hidden command that only lists their names.',
    '_certman_cert_names() {',
    '  local -a names args expl',
    '  local i',
    '  for (( i = 2; i < ${#_certman_line}; i++ )); do',
    '    case ${_certman_line[i]} in',
    '      --config-dir=*|--store=*) args+=(${_certman_line[i]%%=*} "${(Q)${_certman_line[i]#*=}}") ;;',
    '      --config-dir|--store) args+=(${_certman_line[i]} "${(Q)_certman_line[i+1]}") ;;',
    '    esac',
    '  done',
    '  names=(${(f)"$(${~_certman_line[1]} __complete cert-names "${args[@]}" 2>/dev/null)"})',
    "  _wanted cert-names expl 'certificate name' compadd -a names",
    '}',
    '',
    '_certman() {',
    '  local curcontext=$curcontext state state_descr line ret=1',
    '  local -a _certman_line shared',
    '  typeset -A opt_args',
    '  _certman_line=("${words[@]}")',
    '  # The program\'s options, accepted before and after the command.',
    '  shared=(',
    ...shared.flatMap((o) => optionSpecs(o).map((spec) => `    ${spec}`)),
    '  )',
    '  _arguments -C \\',
    ...own.flatMap((o) => optionSpecs(o, true).map((spec) => `    ${spec} \\`)),
    '    "${shared[@]}" \\',
    // (-): once the command is there, the rest of the line is the command's (global options included).
    "    '(-): :_certman_commands' \\",
    "    '(-)*:: :->args' && ret=0",
    '  if [[ $state == args ]]; then',
    '    curcontext=${curcontext%:*:*}:certman-$words[1]:',
    '    case $words[1] in',
    ...surface.commands.flatMap((c) => commandCase(c)),
    '    esac',
    '  fi',
    '  return ret',
    '}',
    '',
    'if [[ $funcstack[1] == _certman ]]; then',
    '  _certman "$@"',
    'else',
    '  compdef _certman certman',
    'fi',
    '',
  ];
  return lines.join('\n');
}

function commandCase(command: CommandSurface): string[] {
  const specs = [...command.options.flatMap((o) => optionSpecs(o, o.long === '--help')), ...command.arguments.map(argumentSpec)];
  return [
    `      ${namesOf(command).join('|')})`,
    '        _arguments \\',
    ...specs.map((spec) => `          ${spec} \\`),
    '          "${shared[@]}" && ret=0',
    '        ;;',
  ];
}

/**
 * `_arguments` specs of one option: `'(-d --domain)'{-d+,--domain=}'[…]:name: '` in the form zsh's
 * brace expansion turns into one spec per spelling. `exclusive`: nothing else follows it (--help, --version).
 */
function optionSpecs(option: OptionSurface, exclusive = false): string[] {
  const names = [option.short, option.long].filter((n): n is string => n !== undefined);
  const spelled = names.map((name) => {
    if (option.value === undefined) return name;
    // -d+: the value may be attached or the next word; --domain=: after "=" or the next word (commander takes an
    // optional value from the next word too, unless it starts with "-"); -x-: an optional short value is attached.
    if (option.value.optional && !name.startsWith('--')) return `${name}-`;
    return name.startsWith('--') ? `${name}=` : `${name}+`;
  });
  const exclusion = exclusive ? "'(- *)'" : option.repeatable ? "'*'" : names.length > 1 ? quote(`(${names.join(' ')})`) : '';
  const flags = spelled.length > 1 ? `{${spelled.join(',')}}` : spelled[0] ?? '';
  const rest = `[${bracketEscape(oneLine(option.description))}]${option.value === undefined ? '' : valueSpec(option.value)}`;
  return [`${exclusion}${flags}${quote(rest)}`];
}

function argumentSpec(argument: ArgumentSurface): string {
  const colons = argument.variadic ? (argument.required ? '*:' : '*::') : argument.required ? ':' : '::';
  // valueSpec starts with ":" (or "::" for an optional value); an argument spec brings its own.
  return quote(`${colons}${valueSpec({ ...argument.value, optional: false }).slice(1)}`);
}

/** `:message:action` (or `::…` for an optional value). */
function valueSpec(value: ValueSurface): string {
  const message = value.name.replace(/[\\:]/g, (c) => `\\${c}`);
  return `${value.optional ? '::' : ':'}${message}:${action(value)}`;
}

function action(value: ValueSurface): string {
  const words = wordsOf(value);
  if (words !== undefined) return `(${words.map((w) => w.replace(/[\\ ()':]/g, (c) => `\\${c}`)).join(' ')})`;
  switch (value.kind) {
    case 'file':
      return '_files';
    case 'directory':
      return '_files -/';
    case 'cert-name':
      return '_certman_cert_names';
    case 'user':
      return '_users';
    case 'command':
      return '_certman_commands';
    case 'text':
      return ' ';
  }
}

function bracketEscape(text: string): string {
  return text.replace(/[\\[\]:]/g, (c) => `\\${c}`);
}

/** Single-quoted for zsh. */
function quote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
