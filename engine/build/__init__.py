"""`hull build`: Dockerfiles/Containerfiles -> images.

dockerfile.py (text -> instructions), expand.py (variables), stages.py (stages,
ARG scoping), context.py + ignore.py (the context and .dockerignore), copier.py
(in-root tree copies), mount.py (a step's working overlay), steps/ (RUN, COPY/ADD,
metadata instructions), layer.py (a change -> a layer; shared with `hull commit`),
cache.py (step keys -> intermediate images), builder.py (the loop).  The facade
is engine/services/build.py.
"""
