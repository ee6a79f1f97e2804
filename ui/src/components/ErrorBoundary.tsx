// Catches a page that throws while rendering, so a bug shows a message and a
// way back instead of a blank screen. Shell keys it by location, so moving to
// another page starts clean.

import { Component, type ReactNode } from "react";

interface State {
  error: Error | null;
}

export class ErrorBoundary extends Component<{ children: ReactNode }, State> {
  override state: State = { error: null };

  static getDerivedStateFromError(error: unknown): State {
    return { error: error instanceof Error ? error : new Error(String(error)) };
  }

  override render() {
    if (!this.state.error) return this.props.children;
    return (
      <div className="page">
        <div className="state-box error" role="alert">
          <strong>This page failed to display</strong>
          <span>{this.state.error.message}</span>
          <span className="actions">
            <button type="button" onClick={() => this.setState({ error: null })}>
              Try again
            </button>
            <a href="/dashboard">Go to the dashboard</a>
          </span>
        </div>
      </div>
    );
  }
}
