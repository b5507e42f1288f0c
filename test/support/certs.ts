import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** A PEM certificate and its private key. */
export interface CertificatePair {
  readonly cert: string;
  readonly key: string;
}

/** A throw-away PKI for TLS tests: a CA with a server and a client certificate, and a second, foreign CA. */
export interface TestCertificates {
  /** The authority trusted by the server for client certificates, and by clients for the server's. */
  readonly ca: string;
  /** For 127.0.0.1 and localhost, signed by `ca`. */
  readonly server: CertificatePair;
  /** CN=provisioner, signed by `ca`. */
  readonly client: CertificatePair;
  /** CN=intruder, signed by another authority the server does not trust. */
  readonly foreignClient: CertificatePair;
}

/** Generates the certificates with the `openssl` CLI in a temporary directory, removed afterwards. */
export async function makeTestCertificates(): Promise<TestCertificates> {
  const dir = await mkdtemp(join(tmpdir(), "rolemapper-certs-"));
  const path = (name: string) => join(dir, name);
  try {
    await authority(path, "ca", "Role Mapper Test CA");
    await authority(path, "other-ca", "Someone Else's CA");
    await writeFile(
      path("server.ext"),
      "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
    );
    await writeFile(path("client.ext"), "extendedKeyUsage=clientAuth\n");
    await leaf(path, "server", "localhost", "ca", "server.ext");
    await leaf(path, "client", "provisioner", "ca", "client.ext");
    await leaf(path, "intruder", "intruder", "other-ca", "client.ext");
    const read = (name: string) => readFile(path(name), "utf8");
    return {
      ca: await read("ca.crt"),
      server: { cert: await read("server.crt"), key: await read("server.key") },
      client: { cert: await read("client.crt"), key: await read("client.key") },
      foreignClient: { cert: await read("intruder.crt"), key: await read("intruder.key") },
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

async function authority(path: (name: string) => string, name: string, commonName: string): Promise<void> {
  await run("openssl", [
    "req",
    "-x509",
    ...KEY,
    "-keyout",
    path(`${name}.key`),
    "-out",
    path(`${name}.crt`),
    "-subj",
    `/CN=${commonName}`,
    "-days",
    "2",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
}

async function leaf(
  path: (name: string) => string,
  name: string,
  commonName: string,
  issuer: string,
  extensions: string,
): Promise<void> {
  await run("openssl", [
    "req",
    ...KEY,
    "-keyout",
    path(`${name}.key`),
    "-out",
    path(`${name}.csr`),
    "-subj",
    `/CN=${commonName}`,
  ]);
  await run("openssl", [
    "x509",
    "-req",
    "-in",
    path(`${name}.csr`),
    "-CA",
    path(`${issuer}.crt`),
    "-CAkey",
    path(`${issuer}.key`),
    "-CAcreateserial",
    "-out",
    path(`${name}.crt`),
    "-days",
    "2",
    "-extfile",
    path(extensions),
  ]);
}
