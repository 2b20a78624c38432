"""A filesystem on a local directory that behaves like an object store where it matters to publishing.

Like S3 or GCS through pyarrow, it cannot rename a directory, and it moves a
file by copying it (the copy appears whole, as an object does) and then
deleting the original. It keeps its files on
disk, so a process killed in the middle leaves them for the next one.
"""

from typing import Any

import pyarrow.fs as pafs


class ObjectStoreHandler(pafs.FileSystemHandler):
    def __init__(self) -> None:
        self.local = pafs.LocalFileSystem()

    def get_type_name(self) -> str:
        return "objectstore"

    def equals(self, other: Any) -> bool:
        return isinstance(other, ObjectStoreHandler)

    def normalize_path(self, path: str) -> str:
        return self.local.normalize_path(path)

    def get_file_info(self, paths: list[str]) -> list[pafs.FileInfo]:
        return list(self.local.get_file_info(paths))

    def get_file_info_selector(self, selector: pafs.FileSelector) -> list[pafs.FileInfo]:
        return list(self.local.get_file_info(selector))

    def create_dir(self, path: str, recursive: bool) -> None:
        self.local.create_dir(path, recursive=recursive)

    def delete_dir(self, path: str) -> None:
        self.local.delete_dir(path)

    def delete_dir_contents(self, path: str, missing_dir_ok: bool = False) -> None:
        self.local.delete_dir_contents(path, missing_dir_ok=missing_dir_ok)

    def delete_root_dir_contents(self) -> None:
        raise OSError("refusing to empty the whole store")

    def delete_file(self, path: str) -> None:
        self.local.delete_file(path)

    def move(self, src: str, dest: str) -> None:
        if self.local.get_file_info(src).type == pafs.FileType.Directory:
            raise OSError(f"an object store cannot move a directory: {src}")
        head, _, name = dest.rpartition("/")
        copying = f"{head}/.{name}.copying"
        self.local.copy_file(src, copying)
        self.local.move(copying, dest)
        self.local.delete_file(src)

    def copy_file(self, src: str, dest: str) -> None:
        self.local.copy_file(src, dest)

    def open_input_stream(self, path: str) -> Any:
        return self.local.open_input_stream(path)

    def open_input_file(self, path: str) -> Any:
        return self.local.open_input_file(path)

    def open_output_stream(self, path: str, metadata: Any = None) -> Any:
        return self.local.open_output_stream(path, metadata=metadata)

    def open_append_stream(self, path: str, metadata: Any = None) -> Any:
        raise OSError("an object store cannot append")


def object_store() -> pafs.FileSystem:
    return pafs.PyFileSystem(ObjectStoreHandler())
