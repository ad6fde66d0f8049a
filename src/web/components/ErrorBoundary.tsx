import { Component, type ReactNode } from 'react';
import { ErrorMessage } from './ErrorMessage.tsx';

interface Props {
  children: ReactNode;
  /** Changing it (e.g. the path) clears a caught error. */
  resetKey?: string;
}

/** A render error shows a message and a way out instead of a blank page. */
export class ErrorBoundary extends Component<Props, { error: unknown; key?: string }> {
  state: { error: unknown; key?: string } = { error: null };

  static getDerivedStateFromError(error: unknown) {
    return { error };
  }

  static getDerivedStateFromProps(props: Props, state: { error: unknown; key?: string }) {
    if (props.resetKey !== state.key) return { error: null, key: props.resetKey };
    return null;
  }

  render() {
    if (!this.state.error) return this.props.children;
    return (
      <section className="panel">
        <ErrorMessage error={this.state.error} title="This page failed to display." />
        <button type="button" className="button" onClick={() => window.location.reload()}>
          Reload the page
        </button>
      </section>
    );
  }
}
