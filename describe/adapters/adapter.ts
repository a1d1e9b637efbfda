// What a service adapter is: one small module per service, registered in ./index.ts.
import type { RequestInfo, ServiceInfo } from '../types.ts';
import type { GraphqlRequest } from '../graphql.ts';

/** SQL a request carries: statement texts to parse (in the service's dialect), or why they could not be read (treated as unparsed). */
export type SqlSource =
  | {
      texts: string[];
      dialect?: 'postgresql' | 'sqlite';
      /**
       * Text in a field that carries SQL only sometimes (`{query}` to a path that does not name an
       * SQL endpoint): SQL when a grammar reads statements in it, otherwise not SQL at all.
       */
      sniffed?: boolean;
      /**
       * Sniffed text in the shape of an SQL interface's request (ClickHouse's `POST /?query=`, a
       * text body POSTed to `/`): when no grammar reads it, it is still SQL when it holds a write's
       * words or an outside call (sql-clickhouse.ts unreadSqlEffect), whatever the method.
       */
      interfaceShaped?: boolean;
      /** The values the request binds to each text's parameters (D1's and Neon's `params`), where it gives them. */
      params?: Array<unknown[] | undefined>;
      /**
       * Statements Airlock wrote for what a request does (a MongoDB filter, a Prisma `where`): no
       * server reads them as text, so MySQL's comparisons of text with numbers are not theirs.
       */
      written?: true;
    }
  | { error: string };

export interface ServiceAdapter {
  /** `input.service.name`, and the name policies and the data file use. */
  name: string;
  /** True when this adapter owns requests to the host (lowercase, as in `input.request.host`). */
  hosts(host: string): boolean;
  /**
   * The operation. Undefined lets later adapters try (e.g. git smart HTTP on any host). `graphql`
   * is the parsed request when `graphqlEndpoint` named this request's URL.
   */
  describe(request: RequestInfo, graphql?: GraphqlRequest): ServiceInfo | undefined;
  /** True for the service's GraphQL endpoints: their bodies are parsed as GraphQL (describe/graphql.ts). */
  graphqlEndpoint?(request: RequestInfo): boolean;
  /** For SQL endpoints: the SQL the request carries. Undefined when the request is not an SQL request. */
  sql?(request: RequestInfo, service: ServiceInfo): SqlSource | undefined;
}

export const hostIs = (...names: string[]) => (host: string): boolean => names.includes(host);
export const hostUnder = (...domains: string[]) => (host: string): boolean =>
  domains.some((d) => host === d || host.endsWith(`.${d}`));
