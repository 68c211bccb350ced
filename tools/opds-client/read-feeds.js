// Reads opds.json (OPDS 2) and opds.xml (OPDS 1.2) with Readium's r2-opds-js; prints what a client sees.
const fs = require("fs");
const path = require("path");
const base = path.dirname(require.resolve("r2-opds-js/package.json")) + "/dist/es8-es2017/src/opds";
const { initGlobalConverters_GENERIC, initGlobalConverters_OPDS } = require(base + "/init-globals");
const { TaJsonDeserialize } = require("r2-lcp-js/dist/es8-es2017/src/serializable");
const { OPDSFeed } = require(base + "/opds2/opds2");
const { OPDS } = require(base + "/opds1/opds");
const { convertOpds1ToOpds2 } = require(base + "/converter");
const { XML } = require("r2-utils-js/dist/es8-es2017/src/_utils/xml-js-mapper");
const xmldom = require("@xmldom/xmldom");
initGlobalConverters_GENERIC();
initGlobalConverters_OPDS();
function summary(feed) {
  return (feed.Publications || []).map((pub) => ({
    title: pub.Metadata && pub.Metadata.Title,
    links: (pub.Links || []).map((link) => [link.Rel, link.TypeLink, link.Href]),
    images: (pub.Images || []).map((link) => link.Href),
    a11y: pub.Metadata && pub.Metadata.Accessibility,
  }));
}
const folder = process.argv[2];
const json = JSON.parse(fs.readFileSync(path.join(folder, "opds.json"), "utf8"));
const opds2 = TaJsonDeserialize(json, OPDSFeed);
const dom = new xmldom.DOMParser().parseFromString(fs.readFileSync(path.join(folder, "opds.xml"), "utf8"), "application/xml");
const opds1 = convertOpds1ToOpds2(XML.deserialize(dom, OPDS));
console.log(JSON.stringify({ opds2: summary(opds2), opds1: summary(opds1) }, null, 1));
