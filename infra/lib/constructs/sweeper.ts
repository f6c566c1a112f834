import type { ScheduleDef } from '@chat/functions/routes';
import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

export interface SweeperProps {
  readonly schedule: ScheduleDef;
  readonly fn: lambda.IFunction;
}

/**
 * The route table's schedule as an EventBridge rule. A sweep that fails is retried briefly, never queued up:
 * the next tick does the same work.
 */
export class Sweeper extends Construct {
  public readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: SweeperProps) {
    super(scope, id);
    const { everySeconds } = props.schedule;
    if (everySeconds < 60 || everySeconds % 60 !== 0) {
      throw new Error(
        `schedule for ${props.schedule.fn}: EventBridge rates are whole minutes, got ${everySeconds}s`,
      );
    }
    this.rule = new events.Rule(this, 'Rule', {
      description: `Runs ${props.schedule.fn} every ${everySeconds / 60} minute(s)`,
      schedule: events.Schedule.rate(Duration.minutes(everySeconds / 60)),
    });
    this.rule.addTarget(
      new targets.LambdaFunction(props.fn, {
        retryAttempts: 2,
        maxEventAge: Duration.seconds(everySeconds),
      }),
    );
  }
}
