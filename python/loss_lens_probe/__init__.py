"""Loss Lens training probes on PyTorch.

Run as ``python -m loss_lens_probe`` with this folder's parent on PYTHONPATH. The protocol
(one TorchJob JSON line on stdin, TorchMessage JSON lines on stdout) is defined in the
extension's src/shared/probeProtocol.ts.
"""
