/** The status and JSON body of one `POST /v1/graphql`. */
export interface GraphQLAnswer {
  readonly status: number;
  readonly body: {
    data?: Record<string, unknown>;
    errors?: { message: string; extensions: { path: string; code: string } }[];
  };
}

/** Posts a GraphQL request the way a client of Hasura does. */
export async function postGraphQL(
  url: string,
  query: string,
  options: {
    variables?: Record<string, unknown>;
    headers?: Record<string, string>;
    operationName?: string;
  } = {},
): Promise<GraphQLAnswer> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...options.headers },
    body: JSON.stringify({ query, variables: options.variables, operationName: options.operationName }),
  });
  return { status: response.status, body: (await response.json()) as GraphQLAnswer["body"] };
}
