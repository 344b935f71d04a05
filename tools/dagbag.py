"""Imports every DAG file of the given folders with Airflow's DagBag, as the
scheduler would, and fails on any import error or on a file that defines no
DAG. Runs in the official Airflow image (the project's CI job dagbag-*)."""
import pathlib
import sys

from airflow.models import DagBag


def main(folders):
    failed = False
    for folder in folders:
        files = sorted(pathlib.Path(folder).glob("*.py"))
        bag = DagBag(dag_folder=folder, include_examples=False)
        for path, err in sorted(bag.import_errors.items()):
            print(f"{path}: import error:\n{err}", file=sys.stderr)
            failed = True
        defined = {pathlib.Path(d.fileloc).name for d in bag.dags.values()}
        for f in files:
            if f.name not in defined:
                print(f"{f}: defines no DAG", file=sys.stderr)
                failed = True
        for dag_id, dag in sorted(bag.dags.items()):
            # An embedded-CDC stream lands its changes, then merges them:
            # Airflow must see capture as merge's only upstream task.
            if "capture" in dag.task_dict:
                merge = dag.task_dict.get("merge")
                if merge is None or set(merge.upstream_task_ids) != {"capture"}:
                    print(f"{dag_id}: merge does not run after capture", file=sys.stderr)
                    failed = True
        print(f"{folder}: {len(bag.dags)} DAGs from {len(files)} files: {', '.join(sorted(bag.dag_ids))}")
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: dagbag.py DAG_FOLDER...")
    sys.exit(main(sys.argv[1:]))
