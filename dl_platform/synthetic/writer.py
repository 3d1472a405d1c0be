"""Write delivery files and truth so the same inputs give byte-identical outputs.

Rows are sorted by record id, CSVs use '\n' line ends, and Parquet files carry no pandas
metadata (which would record the index) and a fixed compression.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from dl_platform.synthetic.formats import DeliveryFile


def write_parquet(frame: pd.DataFrame, path: Path, schema: pa.Schema | None = None) -> None:
    """Parquet with deterministic metadata (no pandas block, zstd, statistics on)."""
    table = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
    table = table.replace_schema_metadata(None)
    pq.write_table(table, path, compression="zstd", write_statistics=True)


def id_sort_key(values: pd.Series) -> np.ndarray:
    """An int64 key whose order is the string order of the record ids.

    Record ids here are a fixed prefix plus fixed-width digits, so their string order is
    the order of the digits as integers: sorting those is far cheaper than sorting millions
    of strings. Ids of any other shape fall back to ranks from Arrow's string sort.
    """
    arr = pa.array(values.to_numpy(dtype=object), type=pa.string())
    if len(arr) == 0:
        return np.zeros(0, dtype=np.int64)
    first = arr[0].as_py() or ""
    prefix = first.rstrip("0123456789")
    bounds = pc.min_max(pc.utf8_length(arr))
    same_shape = (
        arr.null_count == 0
        and bounds["min"].as_py() == bounds["max"].as_py() == len(first)
        and 0 < len(first) - len(prefix) <= 18
        and pc.all(pc.starts_with(arr, prefix)).as_py()
    )
    if same_shape:
        digits = pc.utf8_slice_codeunits(arr, start=len(prefix))
        if pc.all(pc.utf8_is_digit(digits)).as_py():
            return pc.cast(digits, pa.int64()).to_numpy()
    ranks = np.empty(len(arr), dtype=np.int64)
    ranks[pc.sort_indices(arr).to_numpy()] = np.arange(len(arr))
    return ranks


def sort_order(ids: pd.Series) -> np.ndarray:
    """Row order that sorts a frame by its record id column (stable)."""
    return np.argsort(id_sort_key(ids), kind="stable")


def clear_previous(out: Path, sources: set[str]) -> None:
    """Remove files an earlier run of the generator wrote for these sources."""
    for stage in ("landing", "pending"):
        for source in sources:
            folder = out / stage / source
            if folder.is_dir():
                for path in folder.glob(f"{source}_*"):
                    path.unlink()


def write_csv(frame: pd.DataFrame, path: Path, encoding: str = "utf-8") -> None:
    """Unquoted CSV of strings (a delimiter in a value raises), '' for missing, LF line ends.

    Arrow's writer is several times faster than pandas' at millions of rows; it emits
    UTF-8, so other encodings (the latin-1 GP feed) are transcoded afterwards.
    """
    schema = pa.schema([(c, pa.string()) for c in frame.columns])
    table = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
    options = pacsv.WriteOptions(include_header=False, quoting_style="none")
    sink = pa.BufferOutputStream()
    pacsv.write_csv(table, sink, options)
    body = sink.getvalue().to_pybytes()
    header = (",".join(frame.columns) + "\n").encode("ascii")
    if encoding.replace("-", "").replace("_", "").lower() != "utf8":
        body = body.decode("utf-8").encode(encoding)
    path.write_bytes(header + body)


def write_delivery(out: Path, delivery: DeliveryFile) -> Path:
    """Write one delivery file under out/<stage>/<source>/.

    Args:
        out: the output root (DL_DATA_DIR layout).
        delivery: the file to write.

    Returns:
        The path written.
    """
    folder = out / delivery.stage / delivery.source
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / delivery.name
    frame = delivery.frame
    frame = frame.iloc[sort_order(frame[frame.columns[0]])].reset_index(drop=True)
    if delivery.is_parquet:
        schema = pa.schema([(c, pa.string()) for c in frame.columns])
        write_parquet(frame, path, schema)
    else:
        write_csv(frame, path, delivery.encoding)
    return path
