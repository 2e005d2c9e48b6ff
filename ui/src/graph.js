// The focal-point graph: Cytoscape.js, laid out in datapath order (VM → vNIC → bridges → switch →
// tunnel endpoint → NIC → network), nodes shaped by type and coloured by health, each VM's
// tap/qbr chain collapsible into one node, "+N more" handles for what the server left out.
import cytoscape from "cytoscape";

import { api } from "./api.js";

/** Column of each object type, left to right along a packet's way out of a VM. */
export const DATAPATH_RANK = {
  instance: 0, vservice: 0, vnic: 1, vconnector: 2, vedge_port: 2.5, vconnector_member: 2.5, vedge: 3, otep: 4,
  host_pnic: 5, switch_pnic: 6, switch: 7, network: 8,
};
const OTHER_RANK = 9;
export const HEALTH_COLOURS = {
  ok: "#2e7d32", warning: "#8a5300", critical: "#c62828", down: "#4a0d0d", unknown: "#616161",
};
const SHAPES = {
  instance: "round-rectangle", vservice: "round-rectangle", vnic: "ellipse", vconnector: "diamond", vedge: "hexagon",
  otep: "triangle", host_pnic: "rectangle", switch_pnic: "rectangle", switch: "octagon", network: "barrel",
  host: "round-tag", chain: "round-diamond", vedge_port: "pentagon", vconnector_member: "vee",
};
export const TYPE_LABELS = {
  instance: "VM", vservice: "network service", vnic: "vNIC", vconnector: "bridge", vedge: "virtual switch",
  otep: "tunnel endpoint", host_pnic: "host NIC", switch_pnic: "switch port", switch: "switch", network: "network",
  chain: "vNIC chain (tap/qbr/qvb/qvo)", vedge_port: "OVS port", vconnector_member: "bridge member (VXLAN, VLAN)",
};
const HEALTH_ORDER = ["ok", "unknown", "warning", "critical", "down"];

export function worst(...healths) {
  return healths.reduce((a, b) => (HEALTH_ORDER.indexOf(b) > HEALTH_ORDER.indexOf(a) ? b : a), "ok");
}

/** What the graph holds: nodes and links by id, merged from the API's answers. */
export class GraphModel {
  constructor(environment) {
    this.environment = environment;
    this.nodes = new Map();
    this.links = new Map();
    this.health = new Map();
    this.truncated = false;
  }

  merge(answer, { focal = [] } = {}) {
    const inAnswer = new Map();
    for (const l of answer.links || []) for (const end of [l.source, l.target]) inAnswer.set(end, (inAnswer.get(end) || 0) + 1);
    for (const node of answer.nodes || []) {
      const old = this.nodes.get(node.id) || {};
      const merged = { ...old, ...node, focal: !!(old.focal || node.focal || focal.includes(node.id)) };
      // The node's degree, as far as the server counted it: links it showed plus links it left out.
      if (node.hidden_links !== undefined) merged.degree = Math.max(old.degree || 0, node.hidden_links + (inAnswer.get(node.id) || 0));
      else merged.degree = old.degree;
      this.nodes.set(node.id, merged);
    }
    for (const link of answer.links || []) {
      const key = `${link.link_type || link.relationship}|${link.source}|${link.target}`;
      this.links.set(key, { ...link, key });
    }
    this.truncated = this.truncated || !!answer.truncated;
    this.recount();
  }

  /** Links of each node the picture leaves out: its degree minus the links shown now. */
  recount() {
    const shown = new Map();
    for (const l of this.links.values()) for (const end of [l.source, l.target]) shown.set(end, (shown.get(end) || 0) + 1);
    for (const n of this.nodes.values()) n.hidden = n.degree === undefined ? 0 : Math.max(0, n.degree - (shown.get(n.id) || 0));
  }

  async loadHealth() {
    const ids = [...this.nodes.keys()].filter((id) => !this.health.has(id));
    for (let i = 0; i < ids.length; i += 400) {
      const answer = await api.get(`${api.env(this.environment)}/overview/health`, { id: ids.slice(i, i + 400) });
      for (const item of answer.items) {
        this.health.set(item.id, item);
        const node = this.nodes.get(item.id);
        // Its degree from the graph itself: what "+N more" says is left out of the picture.
        if (node && item.degree !== undefined) node.degree = Math.max(node.degree || 0, item.degree);
      }
    }
    this.recount();
  }

  healthOf(id) {
    const node = this.nodes.get(id) || {};
    const known = this.health.get(id);
    if (known) return known;
    if (node.status) return { health: node.status, reason: `status ${node.status}` };
    return { health: "unknown", reason: "health not known" };
  }
}

/** The chains to collapse: a vNIC and the Linux bridge (qbr) it alone hangs off, per VM port. */
export function chains(model) {
  const byId = model.nodes;
  const neighbours = new Map();
  for (const l of model.links.values()) {
    for (const [a, b] of [[l.source, l.target], [l.target, l.source]]) {
      if (!neighbours.has(a)) neighbours.set(a, new Set());
      neighbours.get(a).add(b);
    }
  }
  const result = new Map(); // member id -> chain id
  const members = new Map(); // chain id -> [ids]
  for (const node of byId.values()) {
    if (node.type !== "vnic") continue;
    const bridges = [...(neighbours.get(node.id) || [])].map((id) => byId.get(id))
      .filter((n) => n && n.type === "vconnector" && /^(qbr|qvb|qvo)/.test(n.name || ""));
    if (!bridges.length) continue;
    const chain = `chain:${node.id}`;
    const ids = [node.id, ...bridges.map((b) => b.id)];
    ids.forEach((id) => result.set(id, chain));
    members.set(chain, ids);
  }
  return { memberOf: result, members };
}

/** Cytoscape elements for the model, chains collapsed or not, positions in datapath order. */
export function elements(model, { collapse = true, highlight = new Map(), order = null } = {}) {
  const { memberOf, members } = collapse ? chains(model) : { memberOf: new Map(), members: new Map() };
  const visual = new Map(); // visual node id -> data
  for (const node of model.nodes.values()) {
    const chain = memberOf.get(node.id);
    if (chain) {
      if (!visual.has(chain)) {
        const ids = members.get(chain);
        const parts = ids.map((id) => model.nodes.get(id));
        const health = worst(...ids.map((id) => model.healthOf(id).health));
        visual.set(chain, {
          id: chain, type: "chain", rank: 1.5, host: node.host, members: ids,
          label: parts.map((p) => p.name || p.id).join(" ⇄ "), health,
          reason: ids.map((id) => `${model.nodes.get(id).name}: ${model.healthOf(id).reason}`).join("; "),
          hidden: parts.reduce((s, p) => s + (p.hidden || 0), 0), focal: parts.some((p) => p.focal),
          mark: ids.map((id) => highlight.get(id)).find(Boolean) || "",
        });
      }
      continue;
    }
    const h = model.healthOf(node.id);
    visual.set(node.id, {
      id: node.id, type: node.type, rank: DATAPATH_RANK[node.type] ?? OTHER_RANK, host: node.host,
      label: node.name || node.id, health: h.health, reason: h.reason, hidden: node.hidden || 0,
      focal: !!node.focal, mark: highlight.get(node.id) || "",
    });
  }
  const edges = new Map();
  for (const l of model.links.values()) {
    const s = memberOf.get(l.source) || l.source;
    const t = memberOf.get(l.target) || l.target;
    if (s === t || !visual.has(s) || !visual.has(t)) continue;
    const key = `${s}|${t}|${l.link_type}`;
    const down = l.state === "down" || ["critical", "error", "down"].includes((l.status || "").toLowerCase());
    edges.set(key, { id: `e:${key}`, source: s, target: t, label: l.link_type || l.relationship, down: down ? "yes" : "no" });
  }
  // Datapath order: one column per rank; in a column, by host then name, centred vertically. A path
  // (an `order` of ids) goes left to right hop by hop instead, so the network sits between the hosts.
  if (order) {
    for (const v of visual.values()) {
      const at = (v.members || [v.id]).map((id) => order.get(id)).filter((i) => i !== undefined);
      if (at.length) v.rank = Math.min(...at);
    }
  }
  const columns = new Map();
  for (const v of visual.values()) {
    if (!columns.has(v.rank)) columns.set(v.rank, []);
    columns.get(v.rank).push(v);
  }
  const ranks = [...columns.keys()].sort((a, b) => a - b);
  const positions = new Map();
  const neighbours = new Map();
  for (const e of edges.values()) {
    for (const [a, b] of [[e.source, e.target], [e.target, e.source]]) {
      if (!neighbours.has(a)) neighbours.set(a, []);
      neighbours.get(a).push(b);
    }
  }
  // Each column in the order of its neighbours already placed (fewer crossings), then by host and name.
  const key = (v) => `${v.host || ""}|${v.label}`;
  const barycentre = (v) => {
    const ys = (neighbours.get(v.id) || []).map((n) => positions.get(n)).filter(Boolean).map((p) => p.y);
    return ys.length ? ys.reduce((a, b) => a + b, 0) / ys.length : null;
  };
  ranks.forEach((rank, x) => {
    const column = columns.get(rank).sort((a, b) => key(a).localeCompare(key(b)));
    const centre = new Map(column.map((v) => [v.id, barycentre(v)]));
    const at = (v) => centre.get(v.id) ?? Infinity; // unplaced neighbours: after the rest, by host and name
    column.sort((a, b) => (at(a) === at(b) ? key(a).localeCompare(key(b)) : at(a) - at(b)));
    column.forEach((v, y) => positions.set(v.id, { x: x * 190, y: (y - (column.length - 1) / 2) * 70 }));
  });
  const out = [];
  for (const v of visual.values()) {
    out.push({ group: "nodes", data: { ...v, members: v.members ? v.members.join(" ") : "" }, position: positions.get(v.id),
      classes: [v.focal ? "focal" : "", v.mark ? `mark-${v.mark}` : ""].join(" ") });
    if (v.hidden > 0) {
      const p = positions.get(v.id);
      out.push({ group: "nodes", data: { id: `more:${v.id}`, of: v.id, type: "more", label: `+${v.hidden} more`,
        health: "none" }, position: { x: p.x + 60, y: p.y + 34 }, classes: "more" });
      out.push({ group: "edges", data: { id: `em:${v.id}`, source: v.id, target: `more:${v.id}`, down: "no" }, classes: "more" });
    }
  }
  for (const e of edges.values()) out.push({ group: "edges", data: e });
  return out;
}

const STYLE = [
  { selector: "node", style: {
    label: "data(label)", "font-size": 11, "text-valign": "bottom", "text-margin-y": 4, color: "#1a1a1a",
    "text-wrap": "ellipsis", "text-max-width": 160, width: 30, height: 30, "border-width": 2, "border-color": "#1a1a1a",
    "background-color": (n) => HEALTH_COLOURS[n.data("health")] || HEALTH_COLOURS.unknown,
    shape: (n) => SHAPES[n.data("type")] || "ellipse",
  } },
  { selector: "node.focal", style: { "border-width": 5, "border-color": "#0d47a1", width: 38, height: 38 } },
  { selector: "node[health = 'down']", style: { "border-style": "double", "border-width": 6, "border-color": "#000" } },
  { selector: "node.more", style: {
    shape: "round-rectangle", width: 64, height: 18, "background-color": "#e3f2fd", "border-width": 1,
    "border-color": "#0d47a1", "border-style": "dashed", label: "data(label)", "text-valign": "center",
    "text-margin-y": 0, "font-size": 10, color: "#0d47a1",
  } },
  { selector: "edge", style: {
    width: 2, "line-color": "#78909c", "curve-style": "bezier", "target-arrow-shape": "none",
  } },
  { selector: "edge[down = 'yes']", style: { width: 4, "line-color": "#c62828", "line-style": "dashed" } },
  { selector: "edge.more", style: { width: 1, "line-style": "dotted", "line-color": "#0d47a1" } },
  { selector: "node.mark-affected", style: { "overlay-color": "#c62828", "overlay-opacity": 0.25, "overlay-padding": 8 } },
  { selector: "node.mark-degraded", style: { "overlay-color": "#8a5300", "overlay-opacity": 0.25, "overlay-padding": 8 } },
  { selector: "node.mark-target", style: { "overlay-color": "#0d47a1", "overlay-opacity": 0.25, "overlay-padding": 8 } },
  { selector: "node.mark-suspect", style: { "overlay-color": "#c62828", "overlay-opacity": 0.35, "overlay-padding": 10,
    "border-color": "#c62828", "border-width": 5 } },
  { selector: "node.mark-hop", style: { "overlay-color": "#0d47a1", "overlay-opacity": 0.18, "overlay-padding": 6 } },
  { selector: "node:selected", style: { "border-color": "#ff6f00", "border-width": 6 } },
];

/** Draws a GraphModel in `container`; returns {cy, redraw(options), renderMs}. */
export function draw(container, model, { collapse = true, highlight = new Map(), order = null, onSelect, onMore } = {}) {
  const started = performance.now();
  const cy = cytoscape({
    container, elements: elements(model, { collapse, highlight, order }), style: STYLE, layout: { name: "preset", fit: true, padding: 30 },
    minZoom: 0.05, maxZoom: 3, boxSelectionEnabled: false,
  });
  // A small picture fitted to a large canvas would be drawn huge: no closer than 1.4x.
  if (cy.zoom() > 1.4) { cy.zoom(1.4); cy.center(); }
  cy.on("tap", "node", (event) => {
    const node = event.target;
    if (node.hasClass("more")) onMore && onMore(node.data("of"));
    else onSelect && onSelect(node.data());
  });
  const view = { cy, renderMs: 0 };
  // Time to the first frame drawn: Cytoscape renders on the next animation frame.
  view.rendered = new Promise((resolve) => {
    requestAnimationFrame(() => requestAnimationFrame(() => { view.renderMs = performance.now() - started; resolve(view.renderMs); }));
  });
  return view;
}
