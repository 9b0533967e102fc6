# The tests start the real cppnode executable beside this VM, which must therefore be a
# distributed node (with a unique name and its own cookie).
Cppnode.TestNode.start_distribution!()
ExUnit.start(capture_log: true)
