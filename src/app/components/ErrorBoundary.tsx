/** Keeps one broken panel from blanking the page: it shows a one-line message instead. */
import { Component, type ReactNode } from 'react';
import { PanelFault } from './PanelFault';

interface Props {
  name: string;
  children: ReactNode;
}
interface State {
  error: Error | null;
}

export class ErrorBoundary extends Component<Props, State> {
  state: State = { error: null };

  static getDerivedStateFromError(error: Error): State {
    return { error };
  }

  render(): ReactNode {
    if (this.state.error) {
      return (
        <div className="panel-error" role="alert">
          {this.props.name} could not be shown: {this.state.error.message}{' '}
          <button type="button" onClick={() => this.setState({ error: null })}>
            Retry
          </button>
        </div>
      );
    }
    return (
      <>
        <PanelFault name={this.props.name} />
        {this.props.children}
      </>
    );
  }
}
