// The lab's Node side: Meetecho's simple-whip-server and (optionally) janus-whep-server in one
// process, configured from a JSON file. Usage: node launcher.mjs NODE_DIR CONFIG.json
// NODE_DIR holds node_modules and simple-whip-server/ (tests/interop/peers.py builds it).
// Prints "lab: ready" once both HTTP servers answer their healthcheck.
import path from 'path';
import fs from 'fs';
import http from 'http';
import { pathToFileURL } from 'url';

const [nodeDir, configPath] = process.argv.slice(2);
const config = JSON.parse(fs.readFileSync(configPath, 'utf8'));
const load = (rel) => import(pathToFileURL(path.join(nodeDir, rel)).href);

const { JanusWhipServer } = await load('simple-whip-server/src/whip.js');
const whip = new JanusWhipServer({
	janus: { address: config.janus },
	rest: { port: config.whip.port, basePath: '/whip' },
	iceServers: [],
});
await whip.start();
const publish = whip.createEndpoint({
	id: config.whip.id, room: config.whip.room, token: config.token,
	recipients: config.whip.recipients,
});

let whep = null;
if (config.whep) {
	const { JanusWhepServer } = await load('node_modules/janus-whep-server/src/whep.js');
	whep = new JanusWhepServer({
		janus: { address: config.whep.janus || config.janus },
		rest: { port: config.whep.port, basePath: '/whep' },
		iceServers: [],
	});
	await whep.start();
	const options = { id: config.whep.id, token: config.token, plugin: config.whep.plugin };
	if (config.whep.plugin === 'videoroom') {
		// janus-whep-server's VideoRoom mode subscribes to one publisher's feed id, which Janus picks when
		// a WHIP session joins the room: follow the WHIP endpoint's current publisher.
		Object.assign(options, { room: config.whip.room, feed: 1 });
	} else {
		options.mountpoint = config.whep.mountpoint;
	}
	const play = whep.createEndpoint(options);
	publish.on('endpoint-active', function () {
		if (this.publisher && this.publisher.feed)
			play.feed = this.publisher.feed;
	});
}

function healthy(port, base) {
	return new Promise((resolve) => {
		const req = http.get({ host: '127.0.0.1', port, path: base + '/healthcheck', timeout: 1000 },
			(res) => { res.resume(); resolve(res.statusCode === 200); });
		req.on('error', () => resolve(false));
		req.on('timeout', () => { req.destroy(); resolve(false); });
	});
}

const deadline = Date.now() + 20000;
for (;;) {
	const ok = (await healthy(config.whip.port, '/whip')) && (!whep || await healthy(config.whep.port, '/whep'));
	if (ok) break;
	if (Date.now() > deadline) {
		console.log('lab: servers did not answer their healthcheck within 20 s');
		process.exit(3);
	}
	await new Promise((r) => setTimeout(r, 100));  // poll interval of a deadline-bounded wait
}
console.log('lab: ready');
