/**
 * `certman check --expiry`: the Monitoring Plugins answer (Nagios, Icinga, Zabbix, Sensu) for the certificates a
 * check found. Pure: the state of each finding, the worst of them, and the status line that names it.
 * https://www.monitoring-plugins.org/doc/guidelines.html: exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
 */
import { printableLine } from '../text.js';
import type { CertificateCheck } from './run.js';
import type { EndpointCheck, ServedStatus } from './types.js';

export type PluginState = 'OK' | 'WARNING' | 'CRITICAL' | 'UNKNOWN';

export const PLUGIN_EXIT_CODES: Readonly<Record<PluginState, 0 | 1 | 2 | 3>> = { OK: 0, WARNING: 1, CRITICAL: 2, UNKNOWN: 3 };

/** The plugins' own order (their max_state): any CRITICAL wins, then WARNING, then UNKNOWN. */
const SEVERITY: readonly PluginState[] = ['OK', 'UNKNOWN', 'WARNING', 'CRITICAL'];

export const DEFAULT_WARN_DAYS = 21;
export const DEFAULT_CRIT_DAYS = 7;

const DAY_MS = 86_400_000;

export interface ExpiryThresholds {
  /** WARNING when a certificate has fewer days left than this. */
  warnDays: number;
  /** CRITICAL when fewer than this (an expired one always). */
  critDays: number;
}

/** One line of the answer: a certificate, or one of its endpoints, and what it counts as. */
export interface Finding {
  state: PluginState;
  certificate: string;
  endpoint?: string;
  /** With an endpoint: what it serves. */
  served?: ServedStatus;
  /** Whole days left (negative once expired) of the certificate this finding is about, when there is one. */
  daysLeft?: number;
  text: string;
}

export interface PluginAnswer {
  state: PluginState;
  /** The status line's text after `CERTMAN <STATE> - `. */
  summary: string;
  /** Performance data (after `|`): the soonest expiry in days with the thresholds, and counts. */
  perfdata: string;
  findings: Finding[];
}

export function worstState(states: Iterable<PluginState>): PluginState {
  let worst: PluginState = 'OK';
  for (const state of states) if (SEVERITY.indexOf(state) > SEVERITY.indexOf(worst)) worst = state;
  return worst;
}

/** CRITICAL below `critDays` left (or expired), WARNING below `warnDays`, else OK. */
export function expiryState(notAfter: string, now: Date, thresholds: ExpiryThresholds): PluginState {
  const left = Date.parse(notAfter) - now.getTime();
  if (left < thresholds.critDays * DAY_MS) return 'CRITICAL';
  return left < thresholds.warnDays * DAY_MS ? 'WARNING' : 'OK';
}

/**
 * Every certificate's stored live version counts by its expiry; each endpoint by what it serves: the live
 * certificate as that; an older version or another certificate is a WARNING at least (a deploy that did not
 * arrive) and its own expiry if that is worse; an unreachable endpoint is CRITICAL (as check_http's refused
 * connection). A lineage certman cannot read, a certificate without endpoints to check, and a store without
 * certificates are UNKNOWN; a revoked lineage is not counted (retired on purpose; renew leaves it too).
 */
export function pluginAnswer(checks: readonly CertificateCheck[], now: Date, thresholds: ExpiryThresholds, served: boolean): PluginAnswer {
  const findings = checks.flatMap((check) => findingsOf(check, now, thresholds, served));
  const counted = findings.filter((f) => f.daysLeft !== undefined);
  const soonest = counted.reduce<Finding | undefined>((min, f) => (min === undefined || (f.daysLeft ?? 0) < (min.daysLeft ?? 0) ? f : min), undefined);
  const state = checks.length === 0 ? 'UNKNOWN' : worstState(findings.map((f) => f.state));
  const endpoints = findings.filter((f) => f.endpoint !== undefined);
  const perfdata = [
    ...(soonest === undefined ? [] : [`days_left=${soonest.daysLeft};${thresholds.warnDays};${thresholds.critDays}`]),
    `certificates=${checks.filter((c) => c.status === 'checked').length}`,
    ...(served ? [`endpoints=${endpoints.length}`, `endpoints_not_live=${endpoints.filter((f) => f.served !== 'live').length}`] : []),
  ].join(' ');
  return { state, summary: summaryOf(state, findings, soonest, checks.length), perfdata, findings };
}

function findingsOf(check: CertificateCheck, now: Date, thresholds: ExpiryThresholds, served: boolean): Finding[] {
  const certificate = check.name;
  if (check.status !== 'checked') {
    return check.status === 'revoked'
      ? [{ state: 'OK', certificate, text: `${certificate}: ${check.reason}, not counted` }]
      : [{ state: 'UNKNOWN', certificate, text: `${certificate}: cannot be read: ${printableLine(check.reason)}` }];
  }
  const stored: Finding = { state: expiryState(check.notAfter, now, thresholds), certificate, daysLeft: daysLeft(check.notAfter, now), text: `${certificate}: ${expiresText(check.notAfter, now)}` };
  if (!served) return [stored];
  if (check.check.endpoints.length === 0) {
    return [stored, { state: 'UNKNOWN' as const, certificate, text: `${certificate}: no endpoint to check (only wildcard names): set config endpoints or --endpoint` }];
  }
  return [stored, ...check.check.endpoints.map((endpoint) => endpointFinding(certificate, endpoint, now, thresholds))];
}

function endpointFinding(certificate: string, check: EndpointCheck, now: Date, thresholds: ExpiryThresholds): Finding {
  const at = `${certificate} at ${check.endpoint}`;
  const presented = check.certificate;
  if (check.status === 'unreachable' || presented === undefined) {
    return { state: 'CRITICAL', certificate, endpoint: check.endpoint, served: 'unreachable', text: `${at}: unreachable: ${printableLine(check.error ?? 'no certificate')}` };
  }
  const expiry = expiryState(presented.notAfter, now, thresholds);
  const base = { certificate, endpoint: check.endpoint, served: check.status, daysLeft: daysLeft(presented.notAfter, now) };
  const expires = expiresText(presented.notAfter, now);
  if (check.status === 'live') return { ...base, state: expiry, text: `${at}: serves the live certificate, ${expires}` };
  const what = check.status === 'older' ? `older version ${check.version ?? '?'} (serial ${presented.serial})` : `another certificate (${printableLine(presented.subject)}, serial ${presented.serial})`;
  return { ...base, state: worstState([expiry, 'WARNING']), text: `${at}: serves ${what}, ${expires}` };
}

function daysLeft(notAfter: string, now: Date): number {
  return Math.floor((Date.parse(notAfter) - now.getTime()) / DAY_MS);
}

function expiresText(notAfter: string, now: Date): string {
  const days = daysLeft(notAfter, now);
  const date = notAfter.slice(0, 10);
  if (Date.parse(notAfter) <= now.getTime()) return `expired ${date}`;
  return `expires in ${days} day${days === 1 ? '' : 's'} (${date})`;
}

/** OK: how many and the soonest expiry; otherwise the findings of the worst state, the first three of them. */
function summaryOf(state: PluginState, findings: Finding[], soonest: Finding | undefined, certificates: number): string {
  if (certificates === 0) return 'no certificates to check';
  if (state === 'OK') {
    const soon = soonest === undefined ? '' : `; soonest: ${soonest.text}`;
    return `${certificates} certificate${certificates === 1 ? '' : 's'} OK${soon}`;
  }
  const worst = findings.filter((f) => f.state === state);
  const more = worst.length > 3 ? ` and ${worst.length - 3} more` : '';
  return `${worst.slice(0, 3).map((f) => f.text).join('; ')}${more}`;
}

/** The plugin's output: its status line (with performance data), then one line per finding, worst first. */
export function pluginLines(answer: Pick<PluginAnswer, 'state' | 'summary' | 'perfdata' | 'findings'>): string[] {
  const perf = answer.perfdata === '' ? '' : ` | ${answer.perfdata}`;
  const details = [...answer.findings].sort((a, b) => SEVERITY.indexOf(b.state) - SEVERITY.indexOf(a.state)).map((f) => `${f.state}: ${f.text}`);
  return [`${statusLine(answer.state, answer.summary)}${perf}`, ...details];
}

/** `CERTMAN <STATE> - <text>`: one line, whatever the text holds (a `|` would start performance data). */
export function statusLine(state: PluginState, text: string): string {
  return `CERTMAN ${state} - ${printableLine(text).replace(/\|/g, '/')}`;
}
