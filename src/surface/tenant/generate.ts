// Entities shaped by their Graph type, generated from the seed: every structural property (inherited
// ones too) gets a value of its declared kind — GUID ids, UTC ISO dates, enum members from the model,
// nested complex values (bounded depth), empty collections — so a client's deserializer sees what
// Graph would send. Navigation properties are not inlined (Graph does not, without $expand).
// Same seed and path, same entity: the stream is seeded by the scenario seed and the entity's path.
import { seededGuid } from '../../engine/collections/store.js';
import { createRng, type Rng } from '../../engine/random.js';
import { type Catalogue, catalogue, type StructuredType } from '../catalogue.js';

/** Complex values nest at most this deep (Graph's types recurse: a recurrence holds a pattern holds …). */
const MAX_DEPTH = 3;

const GIVEN = [
  'Adele',
  'Alex',
  'Diego',
  'Grady',
  'Isaiah',
  'Johanna',
  'Lee',
  'Lidia',
  'Lynne',
  'Megan',
  'Miriam',
  'Nestor',
  'Patti',
  'Pradeep',
];
const FAMILY = [
  'Vance',
  'Wilber',
  'Siciliani',
  'Archie',
  'Langer',
  'Lorenz',
  'Gu',
  'Holloway',
  'Robbins',
  'Bowen',
  'Graham',
  'Wilke',
  'Fernandez',
  'Gupta',
];
const WORDS = [
  'Quarterly',
  'Review',
  'Planning',
  'Budget',
  'Launch',
  'Design',
  'Sync',
  'Roadmap',
  'Retail',
  'Contoso',
  'Mark 8',
  'Project',
];

/** A base instant for generated dates: fixed, so answers do not drift with the clock. */
const BASE_MS = Date.UTC(2026, 0, 5, 9, 0, 0);

export interface GenerateOptions {
  seed: number;
  /** where the entity lives (its collection path and index): the rng stream */
  stream: string;
  /** an id to use instead of a generated one */
  id?: string;
}

export function generateEntity(
  type: string,
  opts: GenerateOptions,
  cat: Catalogue = catalogue(),
): Record<string, unknown> {
  const rng = createRng(opts.seed, opts.stream);
  const t = cat.structured(type);
  if (!t) return opts.id ? { id: opts.id } : {};
  const person = { given: pick(rng, GIVEN), family: pick(rng, FAMILY) };
  const out = structured(t, rng, cat, 0, person);
  if (opts.id !== undefined && t.props.has('id')) out.id = opts.id;
  return out;
}

/** A value of any declared type ('*' for collections): what a function or property returns. */
export function generateValue(typeRef: string, opts: GenerateOptions, cat: Catalogue = catalogue()): unknown {
  const rng = createRng(opts.seed, opts.stream);
  return value(typeRef, '', rng, cat, 0, { given: pick(rng, GIVEN), family: pick(rng, FAMILY) });
}

interface Person {
  given: string;
  family: string;
}

function structured(
  t: StructuredType,
  rng: Rng,
  cat: Catalogue,
  depth: number,
  p: Person,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const prop of t.props.values()) {
    if (prop.type === 'Edm.Stream') continue;
    // a live directory object has not been deleted
    if (prop.name === 'deletedDateTime') {
      out[prop.name] = null;
      continue;
    }
    out[prop.name] = value(prop.type, prop.name, rng, cat, depth, p);
  }
  return out;
}

function value(typeRef: string, name: string, rng: Rng, cat: Catalogue, depth: number, p: Person): unknown {
  if (typeRef.startsWith('*')) return []; // collections start empty, as a new Graph entity's do
  switch (typeRef) {
    case 'Edm.String':
      return text(name, rng, p);
    case 'Edm.Guid':
      return seededGuid(rng);
    case 'Edm.DateTimeOffset':
      return new Date(BASE_MS + Math.floor(rng.next() * 90 * 86400) * 1000)
        .toISOString()
        .replace('.000Z', 'Z');
    case 'Edm.Date':
      return new Date(BASE_MS + Math.floor(rng.next() * 90) * 86400_000).toISOString().slice(0, 10);
    case 'Edm.TimeOfDay':
      return `${String(8 + Math.floor(rng.next() * 10)).padStart(2, '0')}:00:00.0000000`;
    case 'Edm.Duration':
      return `PT${1 + Math.floor(rng.next() * 8)}H`;
    case 'Edm.Boolean':
      return rng.next() < 0.5;
    case 'Edm.Byte':
    case 'Edm.SByte':
    case 'Edm.Int16':
    case 'Edm.Int32':
    case 'Edm.Int64':
      return Math.floor(rng.next() * 100);
    case 'Edm.Double':
    case 'Edm.Single':
    case 'Edm.Decimal':
      return Math.round(rng.next() * 10000) / 100;
    case 'Edm.Binary':
      return Buffer.from(seededGuid(rng)).toString('base64');
  }
  const members = cat.enumMembers(typeRef);
  if (members) {
    const real = members.filter((m) => m !== 'unknownFutureValue');
    return real.length ? pick(rng, real) : (members[0] ?? null);
  }
  const t = cat.structured(typeRef);
  if (t) {
    if (depth >= MAX_DEPTH || t.abstract) return null;
    return structured(t, rng, cat, depth + 1, p);
  }
  return null; // geography and other Edm types the mock does not model
}

/** Plausible text for common Graph property names; the rest get the name and a number. */
function text(name: string, rng: Rng, p: Person): string {
  const n = name.toLowerCase();
  if (n === 'id') return seededGuid(rng);
  if (n === 'givenname') return p.given;
  if (n === 'surname') return p.family;
  if (n === 'displayname' || n === 'name') return `${pick(rng, WORDS)} ${pick(rng, WORDS)}`;
  if (n === 'mail' || n === 'userprincipalname' || n === 'address' || n.endsWith('emailaddress')) {
    return `${p.given}${p.family[0]}@contoso.onmicrosoft.com`;
  }
  if (n === 'mailnickname') return `${p.given}${p.family[0]}`;
  if (n === 'subject' || n === 'title') return `${pick(rng, WORDS)} ${pick(rng, WORDS)} ${pick(rng, WORDS)}`;
  if (n === 'weburl' || n.endsWith('url'))
    return `https://contoso.sharepoint.com/${Math.floor(rng.next() * 1e6)}`;
  if (n === 'changekey' || n === 'etag' || n === 'ctag')
    return Buffer.from(seededGuid(rng)).toString('base64').slice(0, 24);
  if (n.endsWith('id')) return seededGuid(rng);
  if (n === 'timezone') return 'UTC';
  if (n === 'description' || n === 'content' || n === 'bodypreview')
    return `${pick(rng, WORDS)} notes for ${p.given}`;
  return `${name} ${1 + Math.floor(rng.next() * 99)}`;
}

function pick<T>(rng: Rng, list: readonly T[]): T {
  return list[Math.floor(rng.next() * list.length)]!;
}
