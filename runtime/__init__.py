"""The application shell: the app factory, the CLI, the job broker and its tasks."""
