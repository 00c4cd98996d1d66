import type { ReactNode } from 'react';

export function Stat(props: {
  label: string;
  value: ReactNode;
  hint?: ReactNode;
  testId?: string;
}) {
  return (
    <div className="stat">
      <div className="label">{props.label}</div>
      <div className="value" data-testid={props.testId}>
        {props.value}
      </div>
      {props.hint !== undefined && <div className="hint">{props.hint}</div>}
    </div>
  );
}
