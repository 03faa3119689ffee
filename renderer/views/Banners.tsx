/** Above every view: binfmt_misc cannot be read, handlers Archway installed are gone (with Put back), status warnings. */
import { usePlanFlow } from '../stores/plans';
import { useStatus, useStatusError } from '../stores/status';

export function Banners() {
  const status = useStatus();
  const statusError = useStatusError();
  const { plan } = usePlanFlow();
  return (
    <>
      {statusError ? (
        <div className="banner bad" role="alert">
          <strong>Cannot read binfmt_misc:</strong> {statusError.message} {statusError.hint}
        </div>
      ) : null}
      {status && status.vanished.length > 0 ? (
        <div className="banner warn" role="status">
          <strong>
            {status.vanished.map((v) => v.name).join(', ')} {status.vanished.length > 1 ? 'are' : 'is'} gone from the kernel.
          </strong>{' '}
          Archway installed {status.vanished.length > 1 ? 'them' : 'it'}; a reboot or systemd-binfmt restarting removed {status.vanished.length > 1 ? 'them' : 'it'}.{' '}
          <button type="button" className="primary small-btn" onClick={() => plan({ action: 'install', archs: status.vanished.map((v) => v.cpu) })}>
            Put back
          </button>
        </div>
      ) : null}
      {status?.warnings
        .filter((w) => !(status.vanished.length > 0 && w.includes('gone from the kernel')))
        .map((w) => (
          <div className="banner warn" role="status" key={w}>
            {w}
          </div>
        ))}
    </>
  );
}
