#!/usr/bin/env node
// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
//
// Offline schema validation of Kubernetes manifests, no cluster needed.
//
//   node tests/deploy/validate.mjs [FILE...]
//
// Without arguments: every deploy/kubernetes/*.yaml. A kustomization.yaml
// is rendered with `kubectl kustomize DIR` (which rejects unknown
// Kustomization fields itself) and each object it renders is validated.
//
// Every object passes two independent checks, both generated from the
// Kubernetes OpenAPI definitions by the kubernetes-models package:
//   1. schema: new Model(obj).validate() (ajv: types, required fields,
//      enums, formats such as int32);
//   2. fields: the object, as a TypeScript literal, type-checked against
//      the model's interface (I<Kind>) with the TypeScript compiler. Its
//      excess-property check rejects unknown fields (a misspelt key
//      anywhere in the tree), which the OpenAPI schemas do not: they
//      carry no additionalProperties: false, so check 1 ignores them
//      silently, as `kubectl apply --validate=false` would.
// An object whose apiVersion/kind kubernetes-models does not know is an
// error, not a skip.
//
// Prints one line per object (ok/FAIL) with the reasons; exits 1 if any
// object or file is invalid.

import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import yaml from 'js-yaml';
import ts from 'typescript';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');

// ---------------------------------------------------------------- inputs

function defaultFiles() {
	const dir = path.join(root, 'deploy', 'kubernetes');
	return readdirSync(dir)
		.filter((f) => /\.ya?ml$/.test(f))
		.sort()
		.map((f) => path.join(dir, f));
}

function rel(p) {
	return path.relative(root, p) || p;
}

// Returns [{ source, index, doc }] or throws with a readable message.
function loadDocs(source, text) {
	const docs = yaml.loadAll(text, null, { filename: source });
	const out = [];
	docs.forEach((doc, index) => {
		if (doc === null || doc === undefined) return; // empty document
		out.push({ source, index, doc });
	});
	if (!out.length) throw new Error(`${source}: no YAML document in it`);
	return out;
}

function isKustomization(doc) {
	return (
		doc &&
		typeof doc === 'object' &&
		doc.kind === 'Kustomization' &&
		String(doc.apiVersion).startsWith('kustomize.config.k8s.io/')
	);
}

function kustomize(dir) {
	return execFileSync('kubectl', ['kustomize', dir], {
		encoding: 'utf8',
		stdio: ['ignore', 'pipe', 'pipe'],
	});
}

// ------------------------------------------------------------- the models

// apiVersion "v1" -> "kubernetes-models/v1"; "apps/v1" -> ".../apps/v1".
function modelModule(apiVersion) {
	if (typeof apiVersion !== 'string' || !/^([a-z0-9.-]+\/)?v[0-9]+[a-z0-9]*$/.test(apiVersion))
		return null;
	return `kubernetes-models/${apiVersion}`;
}

async function modelClass(apiVersion, kind) {
	const mod = modelModule(apiVersion);
	if (!mod || typeof kind !== 'string' || !/^[A-Z][A-Za-z0-9]*$/.test(kind)) return null;
	let ns;
	try {
		ns = await import(mod);
	} catch {
		return null;
	}
	const cls = ns[kind];
	return typeof cls === 'function' && cls.kind === kind && cls.apiVersion === apiVersion
		? cls
		: null;
}

function describeAjv(err) {
	const list = err && Array.isArray(err.errors) ? err.errors : null;
	if (!list) return [String(err && err.message ? err.message : err)];
	return list.map((e) => {
		const where = e.instancePath || '/';
		const extra =
			e.keyword === 'enum' && e.params && e.params.allowedValues
				? ` (${e.params.allowedValues.join(', ')})`
				: '';
		return `schema: ${where} ${e.message}${extra}`;
	});
}

// ------------------------------------------------ TypeScript field check

// Type-checks each object as a literal of its model's interface, all in
// one program with virtual source files under tests/deploy (so module
// resolution finds tests/deploy/node_modules). Returns Map(id -> [msgs]).
function typeCheck(items) {
	const files = new Map();
	const byFile = new Map();
	items.forEach((it, i) => {
		const { apiVersion, kind } = it.doc;
		const file = path.join(here, '__virtual__', `obj${i}.ts`);
		const literal = JSON.stringify(it.doc, null, 2);
		files.set(
			file,
			`import type { I${kind} } from "kubernetes-models/${apiVersion}/${kind}";\n` +
				`export const obj: I${kind} = ${literal};\n`,
		);
		byFile.set(file, i);
	});
	const options = {
		strict: true,
		noEmit: true,
		skipLibCheck: true,
		types: [],
		target: ts.ScriptTarget.ES2020,
		module: ts.ModuleKind.ESNext,
		moduleResolution: ts.ModuleResolutionKind.Bundler,
	};
	const host = ts.createCompilerHost(options);
	const getSourceFile = host.getSourceFile.bind(host);
	const fileExists = host.fileExists.bind(host);
	const readFile = host.readFile.bind(host);
	host.getSourceFile = (f, lang, ...rest) =>
		files.has(f) ? ts.createSourceFile(f, files.get(f), lang, true) : getSourceFile(f, lang, ...rest);
	host.fileExists = (f) => files.has(f) || fileExists(f);
	host.readFile = (f) => (files.has(f) ? files.get(f) : readFile(f));

	const program = ts.createProgram([...files.keys()], options, host);
	const result = new Map();
	for (const d of ts.getPreEmitDiagnostics(program)) {
		const msg = ts.flattenDiagnosticMessageText(d.messageText, '\n  ');
		if (!d.file || !byFile.has(d.file.fileName)) {
			// A problem outside the objects (a broken install): fail all.
			items.forEach((_, i) => push(result, i, `fields: ${msg}`));
			continue;
		}
		const { line } = d.file.getLineAndCharacterOfPosition(d.start);
		const text = d.file.text.split('\n')[line].trim();
		push(result, byFile.get(d.file.fileName), `fields: ${msg} [at: ${text}]`);
	}
	return result;
}

function push(map, key, value) {
	if (!map.has(key)) map.set(key, []);
	map.get(key).push(value);
}

// ------------------------------------------------------------------ main

async function main() {
	const args = process.argv.slice(2);
	const files = args.length ? args.map((a) => path.resolve(a)) : defaultFiles();
	const items = [];
	let failed = 0;

	for (const file of files) {
		let docs;
		try {
			docs = loadDocs(rel(file), readFileSync(file, 'utf8'));
		} catch (e) {
			console.log(`FAIL ${rel(file)}: ${e.message.split('\n')[0]}`);
			failed++;
			continue;
		}
		for (const d of docs) {
			if (!isKustomization(d.doc)) {
				items.push(d);
				continue;
			}
			// The kustomization: render it; its output is validated too.
			const dir = path.dirname(file);
			const source = `kubectl kustomize ${rel(dir)}`;
			let rendered;
			try {
				rendered = loadDocs(source, kustomize(dir));
			} catch (e) {
				const why = (e.stderr || e.message || String(e)).toString().trim();
				console.log(`FAIL ${rel(file)}: ${source}: ${why}`);
				failed++;
				continue;
			}
			console.log(`ok   ${rel(file)}: renders ${rendered.length} objects`);
			items.push(...rendered);
		}
	}

	// Shape and model lookup first; only objects with a model are typed.
	const errors = new Map();
	const typed = [];
	for (let i = 0; i < items.length; i++) {
		const { doc } = items[i];
		if (!doc || typeof doc !== 'object' || Array.isArray(doc)) {
			push(errors, i, 'not a mapping');
			continue;
		}
		const cls = await modelClass(doc.apiVersion, doc.kind);
		if (!cls) {
			push(errors, i, `no Kubernetes schema for apiVersion ${JSON.stringify(doc.apiVersion)} kind ${JSON.stringify(doc.kind)}`);
			continue;
		}
		if (!doc.metadata || typeof doc.metadata.name !== 'string' || !doc.metadata.name)
			push(errors, i, 'metadata.name is missing');
		try {
			new cls(doc).validate();
		} catch (e) {
			for (const m of describeAjv(e)) push(errors, i, m);
		}
		typed.push(i);
	}
	const typeErrors = typeCheck(typed.map((i) => items[i]));
	typed.forEach((i, k) => {
		for (const m of typeErrors.get(k) || []) push(errors, i, m);
	});

	// The same object twice in one source would be applied twice.
	const seen = new Map();
	items.forEach((it, i) => {
		const d = it.doc || {};
		const key = `${it.source}|${d.apiVersion}|${d.kind}|${d.metadata?.namespace ?? ''}|${d.metadata?.name}`;
		if (seen.has(key)) push(errors, i, `duplicate of document ${seen.get(key) + 1}`);
		else seen.set(key, it.index);
	});

	items.forEach((it, i) => {
		const d = it.doc || {};
		const ns = d.metadata?.namespace ? `${d.metadata.namespace}/` : '';
		const what = `${it.source} [doc ${it.index + 1}] ${d.apiVersion} ${d.kind} ${ns}${d.metadata?.name}`;
		const errs = errors.get(i);
		if (!errs) {
			console.log(`ok   ${what}`);
			return;
		}
		failed++;
		console.log(`FAIL ${what}`);
		for (const e of errs) console.log(`       ${e}`);
	});
	console.log(`${items.length} objects checked, ${failed} invalid`);
	process.exit(failed || !items.length ? 1 : 0);
}

main().catch((e) => {
	console.log(`FAIL validate.mjs: ${e && e.stack ? e.stack : e}`);
	process.exit(1);
});
