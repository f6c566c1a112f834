import { Annotations, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { NetworkConfig } from '../config.ts';
import { acknowledge } from '../nag.ts';

/** The interface endpoints of the `interfaceEndpoints` profiles: Secrets Manager, Keyspaces, SQS. */
const ENDPOINT_SERVICES: readonly [string, ec2.InterfaceVpcEndpointAwsService][] = [
  ['SecretsManager', ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER],
  ['Keyspaces', ec2.InterfaceVpcEndpointAwsService.KEYSPACES],
  ['Sqs', ec2.InterfaceVpcEndpointAwsService.SQS],
];

/**
 * The TCP ports clients use on an interface endpoint. Amazon Keyspaces is CQL over TLS on 9142 (443 serves
 * only its HTTPS API); everything else here is an HTTPS API on 443.
 */
export const SERVICE_PORTS: Readonly<Record<string, readonly number[]>> = {
  cassandra: [9142, 443],
};

/** Ports of an endpoint service, by its name (`com.amazonaws.{region}.cassandra` → 9142 and 443). */
export function endpointPorts(service: ec2.IInterfaceVpcEndpointService): number[] {
  const short = service.name.split('.').pop() ?? '';
  return [...(SERVICE_PORTS[short] ?? [service.port])];
}

export interface NetworkProps {
  readonly config: NetworkConfig;
}

/**
 * The VPC the functions, the cache and MSK live in: public subnets (NAT only), private subnets with egress
 * (functions, ElastiCache, MSK). Egress to the public AWS endpoints the functions call (the WebSocket
 * management API has no VPC endpoint for public APIs) goes through:
 * - `gateway`: managed NAT gateway(s), plus interface endpoints for Secrets Manager, Keyspaces and SQS so that
 *   the data path and the secrets stay off the NAT (and the MSK event source can reach SQS for its DLQ);
 * - `instance`: one t4g.nano NAT instance (lean profile: no NAT gateway charge, single-AZ egress).
 * Rejected traffic is logged (VPC flow logs) for 30 days.
 */
export class Network extends Construct {
  public readonly vpc: ec2.Vpc;
  /** Security group of every function in the VPC. Outbound open (HTTPS via NAT), no inbound. */
  public readonly functionsSecurityGroup: ec2.SecurityGroup;
  /** Interface endpoints created (empty when the profile has none). */
  public readonly endpoints: ec2.InterfaceVpcEndpoint[] = [];
  /** Security group of the interface endpoints (when the profile has them). */
  public readonly endpointsSecurityGroup?: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    const { config } = props;

    // The NAT instance's AMI is looked up once and recorded in cdk.context.json (commit it): a deploy then
    // never replaces the instance (and cuts egress) just because Amazon published a newer AMI. Move on with
    // `npx cdk context --reset <key>`. A stack without account/Region (synth without credentials) cannot
    // look anything up: it falls back to the deploy-time SSM parameter and says so.
    const stack = Stack.of(this);
    const pinnedAmi = !Token.isUnresolved(stack.account) && !Token.isUnresolved(stack.region);
    if (config.nat === 'instance' && !pinnedAmi) {
      Annotations.of(this).addWarningV2(
        'chat:nat-ami-unpinned',
        'No account/Region at synth: the NAT instance AMI is resolved at every deploy (a newer AMI replaces ' +
          'the instance). Synthesize with credentials to record it in cdk.context.json.',
      );
    }
    const natInstance =
      config.nat === 'instance'
        ? ec2.NatProvider.instanceV2({
            instanceType: ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.NANO),
            machineImage: ec2.MachineImage.latestAmazonLinux2023({
              cpuType: ec2.AmazonLinuxCpuType.ARM_64,
              cachedInContext: pinnedAmi,
            }),
            defaultAllowedTraffic: ec2.NatTrafficDirection.OUTBOUND_ONLY,
            associatePublicIpAddress: true,
          })
        : undefined;

    this.vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: config.maxAzs,
      natGateways: config.natGateways,
      ...(natInstance ? { natGatewayProvider: natInstance } : {}),
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
      ],
      restrictDefaultSecurityGroup: true,
    });
    if (natInstance) {
      // OUTBOUND_ONLY opens nothing inbound: let the private subnets (and only them) through the NAT.
      for (const subnet of this.vpc.privateSubnets) {
        natInstance.connections.allowFrom(
          ec2.Peer.ipv4(subnet.ipv4CidrBlock),
          ec2.Port.allTraffic(),
          'private subnet egress',
        );
      }
    }

    const flowLogGroup = new logs.LogGroup(this, 'FlowLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.vpc.addFlowLog('RejectedTraffic', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup),
      trafficType: ec2.FlowLogTrafficType.REJECT,
    });

    this.functionsSecurityGroup = new ec2.SecurityGroup(this, 'FunctionsSg', {
      vpc: this.vpc,
      description: 'Chat Lambda functions: no inbound; outbound to the cache, Kafka and HTTPS',
      allowAllOutbound: true,
    });

    if (config.interfaceEndpoints) {
      this.endpointsSecurityGroup = new ec2.SecurityGroup(this, 'EndpointsSg', {
        vpc: this.vpc,
        description:
          'Interface endpoints: HTTPS from the chat functions (and the Kafka event source pollers)',
        allowAllOutbound: false,
      });
      for (const [name, service] of ENDPOINT_SERVICES) {
        this.endpoints.push(
          this.vpc.addInterfaceEndpoint(name, {
            service,
            privateDnsEnabled: true,
            open: false,
            securityGroups: [this.endpointsSecurityGroup],
            subnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
          }),
        );
      }
      this.allowEndpointsFrom(this.functionsSecurityGroup);
    }

    if (natInstance) {
      acknowledge(this.vpc, [
        {
          id: 'AwsSolutions-EC26',
          reason: 'The NAT instance root volume holds no data (stateless packet forwarding, AMI only).',
        },
        {
          id: 'AwsSolutions-EC28',
          reason:
            'Lean profile: detailed monitoring would cost more than the t4g.nano NAT instance it watches.',
        },
        {
          id: 'AwsSolutions-EC29',
          reason:
            'The NAT instance is cattle: a replacement is one cdk deploy away, no termination protection.',
        },
      ]);
    }
  }

  /**
   * Let a security group use the endpoints: by default every port an endpoint's service is used on (443 for
   * the HTTPS APIs, 9142 for Keyspaces' CQL: the functions); `httpsOnly` for MSK's event source pollers, which
   * only write to the SQS DLQ.
   */
  public allowEndpointsFrom(peer: ec2.ISecurityGroup, options: { httpsOnly?: boolean } = {}): void {
    const ports = new Set<number>(options.httpsOnly ? [443] : []);
    if (!options.httpsOnly)
      for (const [, service] of ENDPOINT_SERVICES) for (const port of endpointPorts(service)) ports.add(port);
    for (const port of [...ports].sort((a, b) => a - b)) {
      this.endpointsSecurityGroup?.addIngressRule(
        peer,
        ec2.Port.tcp(port),
        port === 443 ? 'HTTPS to the interface endpoints' : `TCP ${port} to the interface endpoints`,
      );
    }
  }
}
