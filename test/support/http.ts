// One HTTP helper for the tests, on Node's global fetch (undici): status, body and type of
// one request to a server on 127.0.0.1.
export interface HttpAnswer {
  status: number;
  body: string;
  type: string;
}

export async function httpGet(port: number, path: string, method = 'GET'): Promise<HttpAnswer> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method });
  return { status: res.status, body: await res.text(), type: String(res.headers.get('content-type')) };
}
