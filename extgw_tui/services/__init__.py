"""Every operation as plain functions over the models; no Textual here.

The app, the CLI and the tests call the same functions. Each mutating function runs in one
transaction and writes its audit entries inside it.
"""
