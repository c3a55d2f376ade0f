"""Filling a DataTable whose columns change with the terminal's width."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import DataTable

Cell = str | Text


def cell_width(cell: Cell) -> int:
    return cell.cell_len if isinstance(cell, Text) else cell_len(cell)


def column_widths(
    columns: Sequence[tuple[str, str]], rows: Sequence[Mapping[str, Cell]]
) -> dict[str, int]:
    """Each column's width (by key): its widest cell, or its label."""
    return {
        key: max([cell_len(label), *(cell_width(row[key]) for row in rows)])
        for key, label in columns
    }


def fill_table(
    table: DataTable[Cell],
    columns: Sequence[tuple[str, str]],
    rows: Mapping[str, Mapping[str, Cell]],
) -> None:
    """Replace the table's columns and rows (rows by key, cells by column key), keeping the
    cursor on the same row. The column widths are given to the table, not left for it to
    measure: a table rebuilt with new columns was drawn at the widths of its labels until its
    next redraw."""
    cursor = table.cursor_row
    highlighted = None
    if table.row_count:
        highlighted = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
    widths = column_widths(columns, list(rows.values()))
    table.clear(columns=True)
    for key, label in columns:
        table.add_column(label, key=key, width=widths[key])
    for row_key, cells in rows.items():
        table.add_row(*(cells[key] for key, _ in columns), key=row_key)
    if highlighted is not None and highlighted in table.rows:
        table.move_cursor(row=table.get_row_index(highlighted))
    elif table.row_count:
        table.move_cursor(row=min(cursor, table.row_count - 1))
