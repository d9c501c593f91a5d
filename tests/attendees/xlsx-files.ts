// Hand-built XLSX archives for the import's limits: a "zip bomb" (about 1 MB that unpacks to
// hundreds of MB, with an honest central directory), built without compressing hundreds of MB.
import { constants, crc32, deflateRawSync } from 'node:zlib';

interface Entry {
  name: string;
  /** Raw deflate data and what it unpacks to. */
  data: Buffer;
  size: number;
  crc: number;
}

function deflated(name: string, text: string): Entry {
  const raw = Buffer.from(text);
  return { name, data: deflateRawSync(raw), size: raw.length, crc: crc32(raw) };
}

/**
 * An entry of `copies` repetitions of `chunk` between `head` and `tail`. Independently deflated
 * pieces, flushed but not final, concatenate into one valid deflate stream.
 */
function repeated(name: string, head: string, chunk: string, copies: number, tail: string): Entry {
  const flush = { finishFlush: constants.Z_SYNC_FLUSH };
  const [headBytes, chunkBytes, tailBytes] = [head, chunk, tail].map((text) => Buffer.from(text));
  const piece = deflateRawSync(chunkBytes, flush);
  const data = Buffer.concat([deflateRawSync(headBytes, flush), ...Array.from({ length: copies }, () => piece), deflateRawSync(tailBytes)]);
  let crc = crc32(headBytes);
  for (let copy = 0; copy < copies; copy++) crc = crc32(chunkBytes, crc);
  crc = crc32(tailBytes, crc);
  return { name, data, size: headBytes.length + chunkBytes.length * copies + tailBytes.length, crc };
}

function zip(entries: Entry[]): Buffer {
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(8, 8); // deflate
    local.writeUInt32LE(entry.crc >>> 0, 14);
    local.writeUInt32LE(entry.data.length, 18);
    local.writeUInt32LE(entry.size, 22);
    local.writeUInt16LE(name.length, 26);
    const header = Buffer.alloc(46);
    header.writeUInt32LE(0x02014b50, 0);
    header.writeUInt16LE(20, 4);
    header.writeUInt16LE(20, 6);
    header.writeUInt16LE(8, 10);
    header.writeUInt32LE(entry.crc >>> 0, 16);
    header.writeUInt32LE(entry.data.length, 20);
    header.writeUInt32LE(entry.size, 24);
    header.writeUInt16LE(name.length, 28);
    header.writeUInt32LE(offset, 42);
    locals.push(local, name, entry.data);
    central.push(header, name);
    offset += local.length + name.length + entry.data.length;
  }
  const directory = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

const workbookParts = [
  deflated('[Content_Types].xml', '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'),
  deflated('_rels/.rels', '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
  deflated('xl/workbook.xml', '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Danh sach" sheetId="1" r:id="rId1"/></sheets></workbook>'),
  deflated('xl/_rels/workbook.xml.rels', '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'),
];

/** A workbook whose one sheet repeats the same delegate row until it unpacks to about `unpackedMb`. */
export function xlsxBomb(unpackedMb: number): { bytes: Buffer; unpackedBytes: number } {
  const row = '<row><c t="inlineStr"><is><t>Nguyễn Văn Hùng</t></is></c><c t="inlineStr"><is><t>hung@example.vn</t></is></c></row>';
  const chunk = row.repeat(Math.ceil((1024 * 1024) / row.length));
  const sheet = repeated('xl/worksheets/sheet1.xml', '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>', chunk, unpackedMb, '</sheetData></worksheet>');
  const entries = [...workbookParts, sheet];
  return { bytes: zip(entries), unpackedBytes: entries.reduce((sum, entry) => sum + entry.size, 0) };
}

/**
 * A workbook whose directory promises a sheet of `unpackedMb` but whose sheet is no deflate data
 * at all: whatever tries to inflate it fails as unreadable at once, so refusing it for its size
 * proves the size was read from the directory, before anything was inflated.
 */
export function xlsxPromising(unpackedMb: number): Buffer {
  const sheet: Entry = { name: 'xl/worksheets/sheet1.xml', data: Buffer.alloc(4096, 0xff), size: unpackedMb * 1024 * 1024, crc: 0 };
  return zip([...workbookParts, sheet]);
}

/**
 * A workbook whose directory (and local headers) understate what its sheet unpacks to: about
 * `unpackedMb` of blank space between a header row and one delegate, declared as a few hundred
 * bytes. Blank space costs a streaming reader no memory, so only inflating with a cap finds out.
 */
export function xlsxUnderstating(unpackedMb: number): Buffer {
  const head =
    '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>' +
    '<row r="1"><c r="A1" t="inlineStr"><is><t>Họ và tên</t></is></c></row>';
  const tail = '<row r="2"><c r="A2" t="inlineStr"><is><t>Nguyễn Văn Hùng</t></is></c></row></sheetData></worksheet>';
  const sheet = repeated('xl/worksheets/sheet1.xml', head, ' '.repeat(1024 * 1024), unpackedMb, tail);
  return zip([...workbookParts, { ...sheet, size: Buffer.byteLength(head) + Buffer.byteLength(tail) }]);
}
