/**
 * One architecture in depth: why it is in its state, every handler that matches it (raw /proc
 * entry, decoded magic and mask, flags explained, interpreter checks with a fix for each failing
 * one, owner, persistence), and conflicts explained.
 */
import { useState } from 'react';
import { cleanText } from '../../shared/sanitize';
import type { Intent } from '../../shared/actions';
import { SETUID_RISK } from '../../shared/binfmt/flags';
import type { HandlerStatus, Status } from '../../shared/status';
import { FlagChip } from '../components/FlagChip';
import { StateBadge } from '../components/StateBadge';
import { actionsFor, decodeMagic, type ArchRow } from '../lib/archs';
import { emulatorChoices, previousChoice } from '../../shared/emulator-choice';
import type { Cpu } from '../../shared/arch/catalog';
import { choiceFromKey, choiceKey, pickEmulator, usePicked } from '../stores/emulators';

export function Detail({ row, status, onAction, busy }: { row: ArchRow; status: Status; onAction: (i: Intent) => void; busy: boolean }) {
  const actions = actionsFor(row);
  // Per-architecture opt-in to flag C for an install; its risk is shown where it is chosen.
  const [allowSetuid, setAllowSetuid] = useState(false);
  const withOptIn = (i: Intent): Intent => (i.action === 'install' && allowSetuid ? { ...i, allowSetuid: true } : i);
  const handlers = row.arch.handlers.map((n) => status.handlers.find((h) => h.name === n)).filter((h): h is HandlerStatus => !!h);
  return (
    <div className="detail">
      <h2>
        {row.platforms[0] ?? row.cpu} <span className="muted mono small">{row.cpu}</span>
      </h2>
      <p>
        <StateBadge state={row.state} summary={row.summary} /> {row.summary}
      </p>
      {actions.length ? (
        <div className="detail-actions">
          {actions.map((a) => (
            <button key={a.id} type="button" className={a.id === 'install' ? 'primary small-btn' : a.id === 'uninstall' ? 'danger small-btn' : 'small-btn'} disabled={busy} onClick={() => onAction(withOptIn(a.intent))}>
              {a.label}
            </button>
          ))}
          {actions.some((a) => a.id === 'install') ? (
            <label className="small setuid-opt-in">
              <input type="checkbox" checked={allowSetuid} onChange={(e) => setAllowSetuid(e.target.checked)} /> allow setuid (C)
              {allowSetuid ? <div className="warn-text">Risk: {SETUID_RISK}</div> : null}
            </label>
          ) : null}
        </div>
      ) : null}
      {row.arch.nativeWhy ? <p className="muted small">Native: {row.arch.native} — {row.arch.nativeWhy}</p> : null}
      {row.state === 'conflict' ? (
        <div className="callout warn">
          <strong>Conflict.</strong> The kernel tries the newest registered handler first, so only {row.arch.winner ?? 'one'} is used
          {handlers.length > 1 ? `; ${handlers.filter((h) => h.name !== row.arch.winner).map((h) => h.name).join(', ')} never run` : ''}
          {row.arch.native === 'yes' ? '; and this CPU runs natively, so an emulator only slows it down' : ''}. Uninstall the handlers you do not need.
        </div>
      ) : null}
      {handlers.length === 0 ? (
        <>
          <h3>No handler</h3>
          {row.arch.available.length ? (
            <p className="small">
              Install would use <span className="mono">{row.arch.available[0]!.path}</span> ({row.arch.available[0]!.source}
              {row.arch.available[0]!.version ? `, QEMU ${row.arch.available[0]!.version}` : ''}
              {row.arch.available[0]!.reported ? `, ${cleanText(row.arch.available[0]!.reported)}` : ''}).
            </p>
          ) : row.state !== 'native' ? (
            <p className="small">No emulator found for {row.cpu}. Debian/Ubuntu: <span className="mono">apt-get install qemu-user-static</span>.</p>
          ) : null}
        </>
      ) : (
        handlers.map((h) => <HandlerDetail key={h.name} h={h} winner={h.name === row.arch.winner} status={status} onAction={onAction} busy={busy} />)
      )}
    </div>
  );
}

/**
 * The handler's QEMU version and where it comes from; for Archway's own handler, *Use previous* and a
 * version picker (every stored version and the distribution's), each a `use` intent through the plan dialog.
 */
function EmulatorVersion({ h, status, onAction, busy }: { h: HandlerStatus; status: Status; onAction: (i: Intent) => void; busy: boolean }) {
  const cpu = h.cpus[0] as Cpu | undefined;
  const picked = usePicked(cpu ?? '');
  if (!cpu) return null;
  const e = h.emulator;
  const choices = emulatorChoices(status, cpu).filter((c) => !c.current);
  const previous = previousChoice(status, cpu);
  const ours = h.owner.kind === 'archway';
  const selected = picked ?? (choices[0] ? choiceKey(choices[0].emulator) : undefined);
  const use = (key: string) => onAction({ action: 'use', archs: [cpu], emulator: choiceFromKey(key) });
  return (
    <>
      <dt>QEMU</dt>
      <dd>
        <span className="mono">{e.qemuVersion ? cleanText(e.qemuVersion) : 'version unknown'}</span>{' '}
        <span className="muted small">
          ({e.source === 'archway-store' ? `Archway's store${e.sha256 ? `, sha256 ${e.sha256.slice(0, 12)}…` : ''}` : e.source === 'distro' ? 'the distribution' : 'elsewhere'})
        </span>
        {e.reported ? <div className="muted small">{cleanText(e.reported)}</div> : null}
        {ours && choices.length ? (
          <div className="emulator-switch">
            {previous ? (
              <button type="button" className="small-btn" disabled={busy} onClick={() => use(choiceKey(previous.emulator))} title={`Switch to ${previous.label}`}>
                Use previous
              </button>
            ) : null}
            <label className="small">
              Version{' '}
              <select aria-label={`QEMU version for ${h.name}`} value={selected} onChange={(ev) => pickEmulator(cpu, ev.target.value)}>
                {choices.map((c) => (
                  <option key={choiceKey(c.emulator)} value={choiceKey(c.emulator)}>
                    {cleanText(c.label)}
                    {c.regressed ? ' (known regression)' : ''}
                  </option>
                ))}
              </select>
            </label>{' '}
            <button type="button" className="small-btn" disabled={busy || !selected} onClick={() => selected && use(selected)}>
              Switch
            </button>
          </div>
        ) : !ours && choices.length ? (
          <div className="muted small">Archway switches only its own handlers: take this one over (Install → Take over) first.</div>
        ) : null}
      </dd>
    </>
  );
}

function HandlerDetail({ h, winner, status, onAction, busy }: { h: HandlerStatus; winner: boolean; status: Status; onAction: (i: Intent) => void; busy: boolean }) {
  const magic = decodeMagic(h);
  const failing = h.checks.filter((c) => c.level !== 'ok');
  return (
    <section className="handler" aria-label={`Handler ${h.name}`}>
      <h3>
        <span className="mono">{h.name}</span> {h.enabled ? '' : <span className="muted">(disabled)</span>} {winner ? <span className="tag">in use</span> : null}
      </h3>
      <dl className="facts">
        <dt>Owner</dt>
        <dd>
          {h.owner.detail}
          {h.owner.guess ? ' (a guess from its shape)' : ''}
        </dd>
        <dt>After reboot</dt>
        <dd>{h.persistent ? `kept (${h.persistFile ?? 'binfmt.d'})` : 'lost at reboot'}</dd>
        <dt>Interpreter</dt>
        <dd className="mono">{h.rule.interpreter}</dd>
        <EmulatorVersion h={h} status={status} onAction={onAction} busy={busy} />
        <dt>Flags</dt>
        <dd>
          {h.flags.length === 0 ? <span className="muted">none</span> : null}
          <ul className="flag-list">
            {h.flags.map((f) => (
              <li key={f.letter}>
                <FlagChip flag={f} /> {f.explain}
              </li>
            ))}
          </ul>
        </dd>
      </dl>
      <h4>Health</h4>
      <ul className="checks">
        {h.checks.map((c) => (
          <li key={c.id} className={`check ${c.level}`}>
            <span className="check-level">{c.level === 'ok' ? '✓' : c.level === 'info' ? 'i' : c.level === 'warning' ? '!' : '✗'}</span>
            <div>
              <div>{c.message}</div>
              {c.fix && c.level !== 'ok' ? (
                <div className="fix">
                  Fix: <span className="mono">{c.fix}</span>
                  {c.intent?.action === 'use' ? (
                    <>
                      {' '}
                      <button type="button" className="small-btn" disabled={busy} onClick={() => onAction(c.intent as Intent)}>
                        Switch version
                      </button>
                    </>
                  ) : null}
                </div>
              ) : null}
            </div>
          </li>
        ))}
      </ul>
      {failing.length === 0 ? <p className="muted small">All checks pass.</p> : null}
      {magic ? (
        <>
          <h4>Magic (offset {magic.offset})</h4>
          <div className="bytes" role="table" aria-label="Magic bytes and mask">
            {magic.bytes.map((b, i) => (
              <span key={i} className={b.compared ? 'byte' : 'byte ignored'} title={`byte ${magic.offset + i}: magic ${b.magic}, mask ${b.mask}${b.compared ? '' : ' (ignored)'}`}>
                <span className="mono">{b.magic}</span>
                <span className="mono muted">{b.mask}</span>
              </span>
            ))}
          </div>
          <p className="muted small">Top: bytes the file must start with; bottom: mask (00 = ignored, fe = either of two values).</p>
        </>
      ) : null}
      <h4>/proc/sys/fs/binfmt_misc/{h.name}</h4>
      <pre className="raw">{h.raw}</pre>
      {h.register ? (
        <>
          <h4>As a register string</h4>
          <pre className="raw wrap">{h.register}</pre>
        </>
      ) : null}
    </section>
  );
}
