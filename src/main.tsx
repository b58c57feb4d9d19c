import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/components/App';
import { startEngine } from './app/engineClient';
import './app/styles.css';

startEngine();
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
