/**
 * bash completion script, from the command surface. Plain bash (no bash-completion helpers needed);
 * works with bash-completion's on-demand loading too.
 */
import type { ArgumentSurface, OptionSurface, Surface, ValueSurface } from '../surface.js';
import { optionNames } from '../surface.js';
import { header, namesOf, sharedOptions, wordsOf } from './common.js';

const INSTALL = 'copy to ~/.local/share/bash-completion/completions/certman, or run: source <(certman completion bash)';

export function bashCompletion(surface: Surface): string {
  const commands = surface.commands;
  const shared = sharedOptions(surface);
  const lines: string[] = [
    ...header('bash', INSTALL),
    '',
    `_certman_commands=${quote(commands.flatMap(namesOf).join(' '))}`,
    '',
    '# Sets _certman_cmd to the command named $1 (aliases resolved); fails for a word that is none.',
    '_certman_command() {',
    '  case $1 in',
    ...commands.map((c) => `    ${namesOf(c).join('|')}) _certman_cmd=${c.name} ;;`),
    '    *) _certman_cmd=$1; return 1 ;;',
    '  esac',
    '}',
    '',
    '# Sets _certman_words to the options of command $1 (of the program itself when $1 is empty).',
    '_certman_options() {',
    '  case $1 in',
    `    '') _certman_words=${quote(optionNames(surface.options).join(' '))} ;;`,
    ...commands.map((c) => `    ${c.name}) _certman_words=${quote(optionNames([...c.options, ...shared]).join(' '))} ;;`),
    '    *) _certman_words= ;;',
    '  esac',
    '}',
    '',
    '# Sets _certman_kind to how the value of option $2 of command $1 is completed, and fails when the',
    '# option takes no value: text, file, directory, cert-name, user, command, or "words <word>...".',
    '_certman_option_kind() {',
    '  _certman_kind=',
    '  case $2 in',
    ...optionCases(surface.options, '    '),
    '  esac',
    '  if [[ -z $_certman_kind ]]; then',
    '    case $1 in',
    ...commands.flatMap((c) => {
      const cases = optionCases(c.options, '          ');
      return cases.length === 0 ? [] : [`      ${c.name})`, '        case $2 in', ...cases, '        esac ;;'];
    }),
    '    esac',
    '  fi',
    '  [[ -n $_certman_kind ]]',
    '}',
    '',
    '# Sets _certman_kind for the positional argument number $2 (from 0) of command $1; fails when there is none.',
    '_certman_argument_kind() {',
    '  _certman_kind=',
    '  case "$1 $2" in',
    ...commands.flatMap((c) => argumentCases(c.name, c.arguments)),
    '  esac',
    '  [[ -n $_certman_kind ]]',
    '}',
    '',
    '# Fills COMPREPLY with values of kind $1 that start with $2; $3 and $4 are the --config-dir and --store given on the line.',
    '_certman_values() {',
    "  local IFS=$'\\n' names certman=${COMP_WORDS[0]}",
    '  case $1 in',
    '    file) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$2")) ;;',
    '    directory) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- "$2")) ;;',
    '    user) COMPREPLY=($(compgen -u -- "$2")) ;;',
    '    cert-name)',
    '      # A hidden command that only lists the names in the store: fast, and quiet when anything is wrong.',
    "      [[ $certman == '~/'* ]] && certman=$HOME/${certman#'~/'}",
    '      local where=()',
    '      [[ -n $3 ]] && where+=(--config-dir "$3")',
    '      [[ -n $4 ]] && where+=(--store "$4")',
    '      names=$("$certman" __complete cert-names "${where[@]}" 2>/dev/null)',
    '      COMPREPLY=($(compgen -W "$names" -- "$2")) ;;',
    "    command) IFS=$' \\t\\n'; COMPREPLY=($(compgen -W \"$_certman_commands\" -- \"$2\")) ;;",
    "    words\\ *) IFS=$' \\t\\n'; COMPREPLY=($(compgen -W \"${1#words }\" -- \"$2\")) ;;",
    '  esac',
    '}',
    '',
    '_certman() {',
    '  local cur=${COMP_WORDS[COMP_CWORD]} prev= opt= prefix= cmd= dir= store= word i=1 npos=0',
    '  COMPREPLY=()',
    '  (( COMP_CWORD > 0 )) && prev=${COMP_WORDS[COMP_CWORD-1]}',
    '  # --opt=value: bash splits the word at "=" when "=" is in COMP_WORDBREAKS (the default).',
    '  if [[ $cur == = && $prev == --* ]]; then',
    '    opt=$prev cur=',
    '  elif [[ $prev == = ]] && (( COMP_CWORD > 1 )) && [[ ${COMP_WORDS[COMP_CWORD-2]} == --* ]]; then',
    '    opt=${COMP_WORDS[COMP_CWORD-2]}',
    '  elif [[ $cur == --*=* ]]; then',
    '    opt=${cur%%=*} prefix=${cur%%=*}= cur=${cur#*=}',
    '  elif [[ $prev == -* && $prev != *=* ]]; then',
    '    opt=$prev',
    '  fi',
    '  # The command, how many positional arguments it has so far, --config-dir and --store.',
    '  while (( i < COMP_CWORD )); do',
    '    word=${COMP_WORDS[i]}',
    '    case $word in',
    '      --config-dir=*) dir=${word#*=} ;;',
    '      --store=*) store=${word#*=} ;;',
    '      --*=*) ;;',
    '      -?*)',
    '        if _certman_option_kind "$cmd" "$word"; then',
    '          [[ ${COMP_WORDS[i+1]} == = ]] && i=$((i + 1))',
    '          i=$((i + 1))',
    '          [[ $word == --config-dir ]] && (( i < COMP_CWORD )) && dir=${COMP_WORDS[i]}',
    '          [[ $word == --store ]] && (( i < COMP_CWORD )) && store=${COMP_WORDS[i]}',
    '        fi ;;',
    '      *)',
    '        if [[ -z $cmd ]]; then',
    '          _certman_command "$word"',
    '          cmd=$_certman_cmd',
    '        else',
    '          npos=$((npos + 1))',
    '        fi ;;',
    '    esac',
    '    i=$((i + 1))',
    '  done',
    '',
    '  if [[ -n $opt ]] && _certman_option_kind "$cmd" "$opt"; then',
    '    _certman_values "$_certman_kind" "$cur" "$dir" "$store"',
    '  elif [[ $cur == -* ]]; then',
    '    _certman_options "$cmd"',
    '    COMPREPLY=($(compgen -W "$_certman_words" -- "$cur"))',
    '  elif [[ -z $cmd ]]; then',
    '    COMPREPLY=($(compgen -W "$_certman_commands" -- "$cur"))',
    '  elif _certman_argument_kind "$cmd" "$npos"; then',
    '    _certman_values "$_certman_kind" "$cur" "$dir" "$store"',
    '  else',
    '    _certman_options "$cmd"',
    '    COMPREPLY=($(compgen -W "$_certman_words" -- "$cur"))',
    '  fi',
    '  [[ -n $prefix ]] && COMPREPLY=("${COMPREPLY[@]/#/$prefix}")',
    '  return 0',
    '}',
    '',
    'complete -F _certman certman',
    '',
  ];
  return lines.join('\n');
}

/** `--webroot) _certman_kind=directory ;;` lines for the options that take a value. */
function optionCases(options: OptionSurface[], indent: string): string[] {
  return options.flatMap((o) => (o.value === undefined ? [] : [`${indent}${optionNames([o]).join('|')}) _certman_kind=${kindWord(o.value)} ;;`]));
}

function argumentCases(command: string, args: ArgumentSurface[]): string[] {
  return args.map((a, index) => {
    // A variadic (last) argument takes every position from its own on.
    const pattern = a.variadic ? `'${command} '*` : `'${command} ${index}'`;
    return `    ${pattern}) _certman_kind=${kindWord(a.value)} ;;`;
  });
}

function kindWord(value: ValueSurface): string {
  const words = wordsOf(value);
  return words === undefined ? value.kind : quote(`words ${words.join(' ')}`);
}

/** Single-quoted for bash. */
function quote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
