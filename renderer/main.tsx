import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { ApiContext } from './api';
import { App } from './App';
import './styles.css';

const root = createRoot(document.getElementById('root')!);
if (!window.archway) {
  root.render(<p className="fatal">Archway's bridge to the system (window.archway) is missing. Start Archway with `npm start` or the installed launcher.</p>);
} else {
  root.render(
    <StrictMode>
      <ApiContext.Provider value={window.archway}>
        <App />
      </ApiContext.Provider>
    </StrictMode>,
  );
}
